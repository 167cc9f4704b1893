import { createEntry, createResponseCache, type EntryInfo, encodeEntry, listEntries } from '@tinyllm/cache-core';
import { type RedisClusterHandle, type RedisServerHandle, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { heapGrowthOf } from '@tinyllm/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

const ENTRIES = 100_000;

async function collect(source: AsyncIterable<EntryInfo>): Promise<EntryInfo[]> {
  const out: EntryInfo[] = [];
  for await (const info of source) out.push(info);
  return out;
}

describe.skipIf(!redisAvailable)('redis listing', () => {
  let server: RedisServerHandle, cluster: RedisClusterHandle;
  beforeAll(async () => ([server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()])));
  afterAll(() => Promise.all([releaseServer(server), cluster?.stop()]));

  it(`lists ${ENTRIES.toLocaleString('en')} entries with flat memory (SCAN + pipelined heads)`, async () => {
    const keyPrefix = uniquePrefix('big');
    const raw = new Redis(server.url);
    const filler = 'x'.repeat(1000);
    for (let start = 0; start < ENTRIES; start += 10_000) {
      const pipeline = raw.pipeline();
      for (let i = start; i < start + 10_000; i++) {
        pipeline.set(
          `${keyPrefix}key-${i}`,
          encodeEntry(createEntry({ response: `${i}${filler}` }, { model: i % 2 ? 'a:latest' : 'b:latest', endpoint: 'chat' })),
        );
      }
      await pipeline.exec();
    }
    await raw.hincrby(`${keyPrefix}__stats`, 'hits', 1); // the counters hash is not an entry
    await raw.quit();
    const backend = new RedisBackend({ url: server.url, keyPrefix });
    const { count, maxGrowthBytes } = await heapGrowthOf(backend.list());
    expect(count).toBe(ENTRIES);
    expect(maxGrowthBytes).toBeLessThan(8 * 1024 * 1024);
    await backend.clear();
    await backend.close();
  }, 120_000);

  it('lists the entries of every master of a cluster, with their metadata', async () => {
    const backend = new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: uniquePrefix('cluster') });
    const entries = Array.from({ length: 300 }, (_, i) => [`t:${i}`, createEntry(i, { ttl: 600, model: 'm:latest', endpoint: 'generate' })] as const);
    await Promise.all(entries.map(([key, entry]) => backend.set(key, entry)));
    const listed = await collect(backend.list({ batchSize: 50 }));
    expect(listed.map((info) => info.key).sort()).toEqual(entries.map(([key]) => key).sort());
    const first = entries[0]?.[1];
    expect(listed.find((info) => info.key === 't:0')).toEqual({
      key: 't:0',
      namespace: 't',
      endpoint: 'generate',
      model: 'm:latest',
      createdAt: first?.createdAt,
      expiresAt: first?.expiresAt,
      sizeBytes: first?.sizeBytes,
      accessCount: 0,
      lastAccess: first?.lastAccess,
    });
    expect(await collect(listEntries(backend, { model: 'm', limit: 7, sort: 'key' }))).toHaveLength(7);
    await backend.clear();
    await backend.close();
  });

  it('an entry whose model name runs past the listed head is still listed (full read)', async () => {
    const backend = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('long') });
    const model = 'm'.repeat(2000);
    await backend.set('k', createEntry('v', { model }));
    expect((await collect(backend.list())).map((info) => info.model)).toEqual([model]);
    await backend.close();
  });

  it('keeps per-model counters in the shared hash', async () => {
    const keyPrefix = uniquePrefix('models');
    const cache = createResponseCache<{ total_duration: number }>(
      { savingsOf: (value) => ({ durationNs: value.total_duration, tokens: 3 }) },
      () => new RedisBackend({ url: server.url, keyPrefix }),
    );
    await cache.resolve('k', () => ({ total_duration: 50 }), { model: 'llama3:8b' });
    await cache.flush();
    await cache.resolve('k', () => ({ total_duration: 1 }), { model: 'llama3:8b' });
    await cache.close(); // flushes the buffered counters
    const other = new RedisBackend({ url: server.url, keyPrefix });
    expect((await other.readCounters()).byModel).toEqual({ 'llama3:8b': { hits: 1, misses: 1, savedDurationNs: 50, savedTokens: 3 } });
    await other.resetCounters();
    expect((await other.readCounters()).byModel).toEqual({});
    await other.close();
  });
});
