import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRedisServer, startRedisServer } from '@tinyllm/redis-harness';
import { sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { type CreateCachedClientOptions, cacheInfo, createCachedClient, OllamaHttpError, OllamaUnreachableError } from '../src/index.js';
import { collect, collectError, fakeServer, MODEL, onCleanup } from './helpers.js';

const redisAvailable = requireRedisServer() !== undefined;

// Each store: the client options that put the cache there.
const STORES: Array<[string, () => Promise<CreateCachedClientOptions>]> = [
  ['memory', async () => ({ backend: 'memory' })],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ollama-cached-stale-'));
      onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
      return { backend: 'sqlite', sqlitePath: join(dir, 'cache.db') };
    },
  ],
];
if (redisAvailable) {
  STORES.push([
    'redis',
    async () => {
      const redis = await startRedisServer();
      onCleanup(() => redis.stop());
      return { backend: 'redis', redisHost: redis.host, redisPort: redis.port, keyPrefix: `stale-test:${process.pid}:` };
    },
  ]);
}

describe.each(STORES)('stale-if-error on %s', (_name, storeOptions) => {
  it('serves an expired answer when Ollama fails (500, unreachable), never a fresh one as stale; beyond the window the error comes through', async () => {
    const server = await fakeServer();
    const options = { host: server.url, retryDelayMs: 1, maxRetries: 0, defaultTtl: 0.3, staleIfErrorTtl: 1.2, ...(await storeOptions()) };
    const client = createCachedClient(options);
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'stale when down' };
    const first = await client.generate(request);
    expect(cacheInfo(first)?.status).toBe('miss');
    await client.flush();

    // Fresh: a hit even with Ollama failing; never 'stale'.
    server.failNext({ kind: 'status', status: 500 }, Number.POSITIVE_INFINITY);
    expect(cacheInfo(await client.generate(request))?.status).toBe('hit');

    await sleep(400); // past the TTL, within the window
    const stale = await client.generate(request);
    expect(cacheInfo(stale)?.status).toBe('stale');
    expect(stale.response).toBe(first.response);
    const streamed = await client.generate({ ...request, stream: true });
    expect(cacheInfo(streamed)?.status).toBe('stale');
    expect((await collect(streamed)).map((chunk) => chunk.response).join('')).toBe(first.response);
    // A 4xx is the caller's error, not an outage: no stale answer.
    server.clearFaults();
    server.failNext({ kind: 'status', status: 404, message: 'model not found' });
    await expect(client.generate(request)).rejects.toBeInstanceOf(OllamaHttpError);

    const stats = await client.getStats();
    expect(stats.cache).toMatchObject({ hits: 1, stale: 2 });
    expect(stats.client.stale).toBe(2);

    // Unreachable: still served.
    await server.close();
    expect(cacheInfo(await client.generate(request))?.status).toBe('stale');

    await sleep(1300); // beyond the window
    await expect(client.generate(request)).rejects.toBeInstanceOf(OllamaUnreachableError);
    expect((await client.getStats()).cache.stale).toBe(3);
  });
});

describe('stale-if-error in the engine', () => {
  it('a stream that broke off after it started is not swapped for a stale answer', async () => {
    const server = await fakeServer();
    const client = createCachedClient({ host: server.url, retryDelayMs: 1, maxRetries: 0, defaultTtl: 0.1, staleIfErrorTtl: 60 });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'broken stream' };
    await client.generate(request);
    await client.flush();
    await sleep(150);
    server.failNext({ kind: 'midstream', afterChunks: 1 });
    const stream = await client.generate({ ...request, stream: true });
    expect(cacheInfo(stream)?.status).toBe('miss');
    expect(await collectError(stream)).toBeInstanceOf(Error);
    expect((await client.getStats()).cache.stale).toBe(0);
  });

  it('off by default: an expired answer is never served', async () => {
    const server = await fakeServer();
    const client = createCachedClient({ host: server.url, retryDelayMs: 1, maxRetries: 0, defaultTtl: 0.1 });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'no window' };
    await client.generate(request);
    await client.flush();
    await sleep(150);
    server.failNext({ kind: 'status', status: 503 });
    await expect(client.generate(request)).rejects.toBeInstanceOf(OllamaHttpError);
  });
});

describe('bindModelDigest', () => {
  it('a model re-pulled with a new digest misses; Ollama down uses the last known digest, so stale-if-error still answers', async () => {
    const server = await fakeServer();
    const client = createCachedClient({
      host: server.url,
      retryDelayMs: 1,
      maxRetries: 0,
      bindModelDigest: true,
      modelDigestTtl: 0.2,
      defaultTtl: 0.3,
      staleIfErrorTtl: 60,
    });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'bound to the weights' };
    const first = await client.generate(request);
    expect(cacheInfo(first)?.status).toBe('miss');
    await client.flush();
    expect(cacheInfo(await client.generate(request))?.status).toBe('hit');
    const unbound = createCachedClient({ host: server.url, ...(client.responseCache ? { backend: client.responseCache } : {}) });
    onCleanup(() => unbound.close());
    expect(cacheInfo(await unbound.generate(request))?.status, 'a key bound to a digest is not the unbound key').toBe('miss');

    server.setModelDigest(MODEL);
    await sleep(250); // the digests are trusted for modelDigestTtl
    const repulled = await client.generate(request);
    expect(cacheInfo(repulled)?.status).toBe('miss');
    expect(repulled.response).not.toBe(first.response);
    await client.flush();
    expect(cacheInfo(await client.generate(request))?.status).toBe('hit');

    await sleep(350); // the entry expired, the digests are old
    await server.close();
    const stale = await client.generate(request);
    expect(cacheInfo(stale)?.status).toBe('stale');
    expect(stale.response).toBe(repulled.response);
  });

  it('a model Ollama does not list is answered uncached; with no digest known and Ollama down, the error comes through', async () => {
    const server = await fakeServer();
    const client = createCachedClient({ host: server.url, retryDelayMs: 1, maxRetries: 0, bindModelDigest: true, staleIfErrorTtl: 60 });
    onCleanup(() => client.close());
    await expect(client.generate({ model: 'not-pulled:1b', prompt: 'x' })).rejects.toBeInstanceOf(OllamaHttpError);
    expect(client.engine.counters.noDigest).toBe(1);
    await server.close();
    const down = createCachedClient({ host: server.url, retryDelayMs: 1, maxRetries: 0, bindModelDigest: true, staleIfErrorTtl: 60 });
    onCleanup(() => down.close());
    await expect(down.generate({ model: MODEL, prompt: 'x' })).rejects.toBeInstanceOf(OllamaUnreachableError);
    expect(down.engine.counters.noDigest).toBe(1);
  });

  it('refuses bad settings with InvalidOptionError', () => {
    expect(() => createCachedClient({ bindModelDigest: 'yes' as unknown as boolean })).toThrow(/bindModelDigest/);
    expect(() => createCachedClient({ bindModelDigest: true, modelDigestTtl: 0 })).toThrow(/modelDigestTtl/);
    expect(() => createCachedClient({ staleIfErrorTtl: -1 })).toThrow(/staleIfErrorTtl/);
  });
});
