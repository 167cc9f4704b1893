import { createEntry } from '@tinyllm/cache-core';
import { type RedisClusterHandle, type RedisServerHandle, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeGlob, RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe('escapeGlob', () => {
  it('escapes every SCAN MATCH metacharacter', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(escapeGlob('tinyllm:cache:')).toBe('tinyllm:cache:');
  });
});

describe.skipIf(!redisAvailable)('prefix isolation', () => {
  let server: RedisServerHandle;
  let cluster: RedisClusterHandle;
  let raw: Redis;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([releaseServer(server), cluster?.stop()]);
  });

  it('clear() removes only keys under the prefix, in batches, and keeps the counters', async () => {
    const base = uniquePrefix('iso');
    const backend = new RedisBackend({ url: server.url, keyPrefix: `${base}a:` });
    try {
      const foreign = [`${base}other`, `${base}b:a:k`, `${base}A:k`, `${base.slice(0, -1)}-unrelated`];
      for (const key of foreign) await raw.set(key, 'keep');
      for (let i = 0; i < 2500; i++) await backend.set(`k${i}`, createEntry(i));
      backend.recordCounters({ hits: 2 });
      await waitForCounters(backend, 2);
      expect((await backend.stats()).entries).toBe(2500);
      expect(await backend.clear()).toBe(2500);
      expect((await backend.stats()).entries).toBe(0);
      for (const key of foreign) expect(await raw.get(key)).toBe('keep');
      expect((await backend.readCounters()).hits).toBe(2);
      await raw.del(...foreign);
    } finally {
      await backend.close();
    }
  });

  it('glob characters in the prefix are literal', async () => {
    const base = uniquePrefix('glob');
    const backend = new RedisBackend({ url: server.url, keyPrefix: `${base}t[1]*?\\:` });
    try {
      const lookalikes = [`${base}t1x:k`, `${base}t[1]xx\\:k`, `${base}t1*?\\:k`];
      for (const key of lookalikes) await raw.set(key, 'keep');
      await backend.set('mine', createEntry('v'));
      expect(await backend.clear()).toBe(1);
      for (const key of lookalikes) expect(await raw.get(key)).toBe('keep');
      await raw.del(...lookalikes);
    } finally {
      await backend.close();
    }
  });

  it('clear() on a cluster removes the prefix from every master and nothing else', async () => {
    const prefix = uniquePrefix('cluster');
    const backend = new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: prefix });
    const rawCluster = new Cluster(cluster.nodes);
    try {
      await rawCluster.set('outside-the-prefix', 'keep');
      for (let i = 0; i < 300; i++) await backend.set(`k${i}`, createEntry(i));
      const perMaster = await Promise.all(backend.client.isCluster ? (backend.client as Cluster).nodes('master').map((n) => n.dbsize()) : []);
      expect(perMaster).toHaveLength(3);
      for (const size of perMaster) expect(size).toBeGreaterThan(0); // the entries really span the masters
      expect((await backend.stats()).entries).toBe(300);
      expect(await backend.clear()).toBe(300);
      for (const node of cluster.nodes) {
        const direct = new Redis({ ...node, lazyConnect: true });
        const [, keys] = await direct.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
        expect(keys).toEqual([]);
        direct.disconnect();
      }
      expect(await rawCluster.get('outside-the-prefix')).toBe('keep');
    } finally {
      rawCluster.disconnect();
      await backend.close();
    }
  });
});

async function waitForCounters(backend: RedisBackend, hits: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const hash = await backend.client.hgetall(`${backend.keyPrefix}__stats`);
    if (Number(hash.hits) === hits) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('counters were not flushed');
}
