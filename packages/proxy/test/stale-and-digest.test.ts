import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { type OllamaResponseCache, ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProxyServerOptions, type RunningProxy, startProxy } from '../src/index.js';
import { send } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()?.();
});

async function stack(
  cacheSettings: { defaultTtl?: number; staleIfErrorTtl?: number },
  options: ProxyServerOptions = {},
): Promise<{ fake: FakeOllamaServer; proxy: RunningProxy; cache: OllamaResponseCache }> {
  const fake = await startFakeOllama();
  open.push(() => fake.close());
  const cache = ollamaResponseCache(new MemoryBackend(), cacheSettings);
  const proxy = await startProxy({ port: 0, upstream: fake.url, processMetrics: false, cache, ...options });
  open.push(() => proxy.close({ graceMs: 0 }));
  return { fake, proxy, cache };
}

const generate = (proxy: RunningProxy, prompt: string, headers: Record<string, string> = {}, stream = false) =>
  send(proxy.url, '/api/generate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ model: MODEL, prompt, stream }),
  });

const responseOf = (text: string): string =>
  text
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { response: string }).response)
    .join('');

describe('stale-if-error through the proxy', () => {
  it('serves X-Cache: STALE when Ollama answers 500 or is gone, counts it, never reports a fresh entry as stale; beyond the window the error comes through', async () => {
    const { fake, proxy, cache } = await stack({ defaultTtl: 0.3, staleIfErrorTtl: 1.2 });
    const first = await generate(proxy, 'stale please');
    expect(first.headers['x-cache']).toBe('MISS');
    await cache.flush();

    fake.failNext({ kind: 'status', status: 500 }, Number.POSITIVE_INFINITY);
    expect((await generate(proxy, 'stale please')).headers['x-cache']).toBe('HIT');

    await sleep(400);
    const stale = await generate(proxy, 'stale please');
    expect(stale.status).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.headers.age).toBeDefined();
    expect(JSON.parse(stale.text).response).toBe(JSON.parse(first.text).response);
    const streamed = await generate(proxy, 'stale please', {}, true);
    expect(streamed.headers['x-cache']).toBe('STALE');
    expect(responseOf(streamed.text)).toBe(JSON.parse(first.text).response);
    // This request wants no stale answer: Ollama's 500 comes through.
    const refused = await generate(proxy, 'stale please', { 'Cache-Control': 'stale-if-error=0' });
    expect(refused.status).toBe(500);
    expect(refused.headers['x-cache']).toBe('MISS');

    const metrics = await send(proxy.url, '/tinyllm/metrics');
    expect(metrics.text).toMatch(/^tinyllm_cache_stale_total 2$/m);
    expect(metrics.text).toMatch(/^tinyllm_cache_hits_total 1$/m);
    expect(metrics.text).toMatch(/^tinyllm_proxy_requests_total\{route="generate",cache="stale"\} 2$/m);

    await fake.close();
    const unreachable = await generate(proxy, 'stale please');
    expect(unreachable.headers['x-cache']).toBe('STALE');

    await sleep(1300);
    const gone = await generate(proxy, 'stale please');
    expect(gone.status).toBe(502);
    expect(gone.headers['x-cache']).toBe('MISS');
  });

  it('Cache-Control: stale-if-error=N works per request on a cache without a window, and a timeout is an outage too', async () => {
    const { fake, proxy, cache } = await stack({ defaultTtl: 0.2 }, { upstreamTimeoutMs: 300 });
    await generate(proxy, 'per request', { 'Cache-Control': 'stale-if-error=60' });
    await generate(proxy, 'no window');
    await cache.flush();
    await sleep(300);
    fake.failNext({ kind: 'hang' }, 2);
    expect((await generate(proxy, 'no window')).status).toBe(504);
    const stale = await generate(proxy, 'per request', { 'Cache-Control': 'stale-if-error=60' });
    expect(stale.status).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
  });
});

describe('bindModelDigest through the proxy', () => {
  it('a model re-pulled with a new digest misses; the old answer is not served', async () => {
    const { fake, proxy, cache } = await stack({ defaultTtl: 60 }, { bindModelDigest: true, modelDigestTtl: 0.2 });
    const first = await generate(proxy, 'bound');
    expect(first.headers['x-cache']).toBe('MISS');
    await cache.flush();
    expect((await generate(proxy, 'bound')).headers['x-cache']).toBe('HIT');
    fake.setModelDigest(MODEL);
    await sleep(250);
    const repulled = await generate(proxy, 'bound');
    expect(repulled.headers['x-cache']).toBe('MISS');
    expect(JSON.parse(repulled.text).response).not.toBe(JSON.parse(first.text).response);
    await cache.flush();
    expect((await generate(proxy, 'bound')).headers['x-cache']).toBe('HIT');
  });

  it('refuses bad options', async () => {
    await expect(startProxy({ port: 0, bindModelDigest: 'yes' as unknown as boolean })).rejects.toThrow(/bindModelDigest/);
    await expect(startProxy({ port: 0, modelDigestTtl: -1 })).rejects.toThrow(/modelDigestTtl/);
  });
});
