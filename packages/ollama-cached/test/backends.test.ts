import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingPackageError } from '@tinyllm/cache-core';
import { requireRedisServer, startRedisServer } from '@tinyllm/redis-harness';
import { describe, expect, it } from 'vitest';
import { cacheInfo, createCachedClient } from '../src/index.js';
import { resolveCache } from '../src/resolve-cache.js';
import { collect, fakeServer, MODEL, onCleanup } from './helpers.js';

// Under CI=true a missing redis-server fails here with the install hint; elsewhere the redis case is skipped, saying why.
const redisAvailable = requireRedisServer() !== undefined;
if (!redisAvailable) console.warn('ollama-cached: redis-server not found, skipping the Redis store test (apt-get install redis-server)');

describe('stores', () => {
  it.runIf(redisAvailable)('redis: createCachedClient loads @tinyllm/cache-redis and caches across clients', async () => {
    const redis = await startRedisServer();
    onCleanup(() => redis.stop());
    const server = await fakeServer();
    const keyPrefix = `ollama-cached-test:${process.pid}:`;
    const make = () => createCachedClient({ host: server.url, backend: 'redis', redisHost: redis.host, redisPort: redis.port, keyPrefix });
    const writer = make();
    onCleanup(() => writer.close());
    await writer.ready();
    const request = { model: MODEL, prompt: 'through redis' };
    const first = await writer.generate(request);
    expect(cacheInfo(first)?.status).toBe('miss');
    const streamed = await collect(await writer.generate({ ...request, stream: true }));
    expect(streamed.map((c) => c.response).join('')).toBe(first.response);

    await writer.flush(); // writes land in the background
    const reader = make(); // another client (think: another process) on the same store
    onCleanup(() => reader.close());
    const hit = await reader.generate(request);
    expect(cacheInfo(hit)?.status).toBe('hit');
    expect(hit.response).toBe(first.response);
    expect(server.modelCalls()).toBe(1);
    const stats = await reader.getStats();
    expect(stats.cache.hits).toBe(1);
    expect(stats.saved.durationNs).toBe(first.total_duration);
    expect(stats.cache.entries).toBe(1);
    expect(await reader.clearCache()).toBe(1);
  });

  it('sqlite: persists in a file that a later client reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-cached-sqlite-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const server = await fakeServer();
    const sqlitePath = join(dir, 'cache.db');
    const first = createCachedClient({ host: server.url, backend: 'sqlite', sqlitePath });
    await first.ready();
    const request = { model: MODEL, prompt: 'through sqlite' };
    const miss = await first.generate(request);
    await first.close();

    const second = createCachedClient({ host: server.url, backend: 'sqlite', sqlitePath });
    onCleanup(() => second.close());
    const stream = await second.generate({ ...request, stream: true });
    expect(cacheInfo(stream)?.status).toBe('hit');
    const chunks = await collect(stream);
    expect(chunks.map((c) => c.response).join('')).toBe(miss.response);
    expect(server.modelCalls()).toBe(1);
    const stats = await second.getStats();
    expect(stats.cache.hits).toBe(1);
    expect(stats.cache.entries).toBe(1);
  });

  it('a missing optional package rejects ready() and the calls with MissingPackageError', async () => {
    const notFound = Object.assign(new Error("Cannot find package '@tinyllm/cache-redis' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    const server = await fakeServer();
    const failing = resolveCache('redis', {}, () => Promise.reject(notFound)).cache;
    await expect(failing).rejects.toSatisfy(MissingPackageError.isInstance);
    await expect(failing).rejects.toMatchObject({ packageName: '@tinyllm/cache-redis', code: 'TINYLLM_MISSING_PACKAGE' });
    const { CachedOllamaClient, OllamaClient } = await import('../src/index.js');
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: failing, ownsCache: true });
    await expect(client.ready()).rejects.toThrow(/npm install @tinyllm\/cache-redis/);
    await expect(client.generate({ model: MODEL, prompt: 'x' })).rejects.toSatisfy(MissingPackageError.isInstance);
    expect(server.modelCalls()).toBe(0);
    await client.close();
  });
});
