import { createServer } from 'node:net';
import type { CacheBackend } from '@tinyllm/cache-core';
import { ResponseCache } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { send, useStack } from './helpers.js';

/** Prometheus text format: every sample line, parsed; fails on a line that is not valid exposition syntax. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Array<{ name: string; labels: Record<string, string>; value: number }> } {
  const types = new Map<string, string>();
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    // Values are Go ParseFloat syntax: NaN and Inf in any case (prom-client writes "Nan").
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-][Ii][Nn][Ff])$/.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const match of (sample[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] as string] = match[2] as string;
    samples.push({ name: sample[1] as string, labels, value: Number(sample[4]) });
  }
  return { types, samples };
}

function memoryCache(): ResponseCache {
  return new ResponseCache({ backend: new MemoryBackend({ maxSize: 100 }) });
}

describe('operations routes, with a memory cache', () => {
  const cache = memoryCache();
  const stack = useStack({}, { cache, cacheLocation: 'this process', processMetrics: true });

  it('GET /tinyllm/health says ok', async () => {
    const reply = await send(stack.proxy.url, '/tinyllm/health');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ status: 'ok' });
    expect((await send(stack.proxy.url, '/tinyllm/health', { method: 'HEAD' })).status).toBe(200);
  });

  it('GET /tinyllm/ready reports the upstream and the cache separately', async () => {
    const reply = await send(stack.proxy.url, '/tinyllm/ready');
    expect(reply.status).toBe(200);
    const { version } = JSON.parse((await send(stack.fake.url, '/api/version')).text) as { version: string };
    expect(JSON.parse(reply.text)).toEqual({
      ready: true,
      upstream: { ok: true, url: stack.fake.url, status: 200, version },
      cache: { ok: true, backend: 'memory' },
    });
  });

  it('GET /tinyllm/metrics is Prometheus text with the expected families, read at scrape time', async () => {
    await cache.set('k1', { response: 'a', done: true });
    await cache.get('k1');
    await cache.get('missing');
    await send(stack.proxy.url, '/api/tags');
    // A load request (empty prompt) goes to Ollama without touching the cache, so the cache counters
    // below are the ones set above.
    await send(stack.proxy.url, '/api/generate', { method: 'POST', body: '{"model":"qwen2.5:0.5b","prompt":"","stream":false}' });
    const reply = await send(stack.proxy.url, '/tinyllm/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parsePrometheus(reply.text);
    const expected: Record<string, string> = {
      tinyllm_proxy_requests_total: 'counter',
      tinyllm_proxy_requests_in_flight: 'gauge',
      tinyllm_proxy_client_aborts_total: 'counter',
      tinyllm_upstream_requests_total: 'counter',
      tinyllm_upstream_errors_total: 'counter',
      tinyllm_upstream_latency_seconds: 'histogram',
      tinyllm_cache_hits_total: 'counter',
      tinyllm_cache_misses_total: 'counter',
      tinyllm_cache_sets_total: 'counter',
      tinyllm_cache_evictions_total: 'counter',
      tinyllm_cache_errors_total: 'counter',
      tinyllm_cache_saved_seconds_total: 'counter',
      tinyllm_cache_saved_tokens_total: 'counter',
      tinyllm_cache_entries: 'gauge',
      tinyllm_cache_bytes: 'gauge',
      process_cpu_seconds_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) expect(types.get(name), name).toBe(type);
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('tinyllm_proxy_requests_total', { route: 'passthrough', cache: 'none' })).toBeGreaterThanOrEqual(1);
    expect(value('tinyllm_proxy_requests_total', { route: 'generate', cache: 'bypass' })).toBeGreaterThanOrEqual(1);
    expect(value('tinyllm_upstream_requests_total')).toBeGreaterThanOrEqual(2);
    expect(value('tinyllm_upstream_latency_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(value('tinyllm_upstream_latency_seconds_bucket', { le: '+Inf' })).toBe(value('tinyllm_upstream_latency_seconds_count'));
    expect(value('tinyllm_cache_hits_total')).toBe(1);
    expect(value('tinyllm_cache_misses_total')).toBe(1);
    expect(value('tinyllm_cache_sets_total')).toBe(1);
    expect(value('tinyllm_cache_entries')).toBe(1);
    // Counted at scrape time: a later request shows in the next scrape.
    await send(stack.proxy.url, '/api/tags');
    const again = parsePrometheus((await send(stack.proxy.url, '/tinyllm/metrics')).text);
    const passthrough = (s: typeof again.samples) => s.find((x) => x.name === 'tinyllm_proxy_requests_total' && x.labels.route === 'passthrough')?.value ?? 0;
    expect(passthrough(again.samples)).toBe(passthrough(samples) + 1);
  });

  it('GET /tinyllm/stats answers what `tinyllm cache-stats --json` shows', async () => {
    const reply = await send(stack.proxy.url, '/tinyllm/stats');
    expect(reply.status).toBe(200);
    const stats = JSON.parse(reply.text);
    expect(Object.keys(stats).sort()).toEqual(
      [
        'backend',
        'location',
        'exists',
        'entries',
        'staleEntries',
        'bytes',
        'hits',
        'misses',
        'hitRate',
        'sets',
        'evictions',
        'errors',
        'stale',
        'oldestCreatedAt',
        'newestCreatedAt',
        'savedMs',
        'savedTokens',
        'byModel',
      ].sort(),
    );
    expect(stats).toMatchObject({ backend: 'memory', location: 'this process', exists: true, entries: 1, hits: 1, misses: 1, sets: 1, hitRate: 0.5 });
  });

  it('POST /tinyllm/clear removes the entries; a namespaced clear removes only that namespace', async () => {
    await cache.set('k2', { response: 'b', done: true });
    await cache.set('team-a:k3', { response: 'c', done: true });
    await cache.set('team-a:k4', { response: 'd', done: true });
    await cache.set('team-ab:k5', { response: 'e', done: true });
    const scoped = await send(stack.proxy.url, '/tinyllm/clear?namespace=team-a', { method: 'POST' });
    expect(scoped.status).toBe(200);
    expect(JSON.parse(scoped.text)).toEqual({ removed: 2, namespace: 'team-a' });
    expect(await cache.get('team-ab:k5')).toBeDefined();
    await cache.set('team-a:k6', { response: 'f', done: true });
    expect(JSON.parse((await send(stack.proxy.url, '/ns/team-a/tinyllm/clear', { method: 'POST' })).text)).toEqual({ removed: 1, namespace: 'team-a' });
    await cache.set('team-b:k7', { response: 'g', done: true });
    const byHeader = await send(stack.proxy.url, '/tinyllm/clear', { method: 'POST', headers: { 'X-TinyLLM-Namespace': 'team-b' } });
    expect(JSON.parse(byHeader.text)).toEqual({ removed: 1, namespace: 'team-b' });
    expect((await cache.backend.stats()).entries).toBe(3);
    const bad = await send(stack.proxy.url, '/tinyllm/clear?namespace=a/b', { method: 'POST' });
    expect(bad.status).toBe(400);
    const all = await send(stack.proxy.url, '/tinyllm/clear', { method: 'POST' });
    expect(all.status).toBe(200);
    expect(JSON.parse(all.text)).toEqual({ removed: 3 });
    expect((await cache.backend.stats()).entries).toBe(0);
  });

  it('wrong methods are 405 with Allow; unknown /tinyllm/ paths are 404 and never forwarded', async () => {
    const get = await send(stack.proxy.url, '/tinyllm/clear');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const post = await send(stack.proxy.url, '/tinyllm/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const before = stack.fake.counts['/tinyllm/nope'] ?? 0;
    const unknown = await send(stack.proxy.url, '/tinyllm/nope');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text).error).toContain('/tinyllm/health');
    expect(stack.fake.counts['/tinyllm/nope'] ?? 0).toBe(before);
  });
});

describe('readiness when things are down', () => {
  let proxy: RunningProxy;
  let upstreamUrl: string;
  beforeAll(async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const broken: CacheBackend = {
      ...new MemoryBackend(),
      name: 'broken',
      capabilities: {},
      get: () => undefined,
      set: () => {},
      delete: () => false,
      has: () => new Promise<boolean>(() => {}),
      clear: () => 0,
      stats: () => ({ entries: 0 }),
      close: () => {},
    };
    proxy = await startProxy({ port: 0, upstream: upstreamUrl, cache: new ResponseCache({ backend: broken }), readyTimeoutMs: 200, processMetrics: false });
  });
  afterAll(() => proxy.close({ graceMs: 0, closeCache: false }));

  it('upstream down: 503, with the upstream reported; a hung store is reported without deciding readiness', async () => {
    const reply = await send(proxy.url, '/tinyllm/ready');
    expect(reply.status).toBe(503);
    const body = JSON.parse(reply.text);
    expect(body.ready).toBe(false);
    expect(body.upstream).toMatchObject({ ok: false, url: upstreamUrl, error: 'ECONNREFUSED' });
    expect(body.cache).toEqual({ ok: false, backend: 'broken', error: 'the broken store did not answer within 200 ms' });
    // Liveness is unaffected.
    expect((await send(proxy.url, '/tinyllm/health')).status).toBe(200);
  });

  it('a proxy without a cache answers stats and clear with 501', async () => {
    const bare = await startProxy({ port: 0, upstream: upstreamUrl, processMetrics: false });
    try {
      expect((await send(bare.url, '/tinyllm/stats')).status).toBe(501);
      expect((await send(bare.url, '/tinyllm/clear', { method: 'POST' })).status).toBe(501);
      const metrics = await send(bare.url, '/tinyllm/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).not.toContain('tinyllm_cache_hits_total');
    } finally {
      await bare.close({ graceMs: 0 });
    }
  });
});
