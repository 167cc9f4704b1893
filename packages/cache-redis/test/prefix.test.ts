import { createEntry } from '@tinyllm/cache-core';
import { type RedisClusterHandle, type RedisServerHandle, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { recordingLogger, waitFor } from '@tinyllm/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { escapeGlob } from '../src/scan.js';
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
      await waitFor(async () => Number((await backend.client.hgetall(`${backend.keyPrefix}__stats`)).hits) === 2, 2000);
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

  it('clear() and stats() touch only cache entries under the prefix: other keys are counted as foreignKeys, left alone, and a warning says so', async () => {
    const prefix = uniquePrefix('foreign');
    const logger = recordingLogger();
    const backend = new RedisBackend({ url: server.url, keyPrefix: prefix, logger });
    try {
      await raw.set(`${prefix}someone-else`, 'not a cache entry');
      await raw.hset(`${prefix}a-hash`, 'field', 'value');
      await raw.set(`${prefix}older-codec`, 'tlc0:[1,null,0,1,1,null,"v"]'); // an entry of another codec version is still ours
      for (let i = 0; i < 3; i++) await backend.set(`k${i}`, createEntry(i));
      expect(await backend.stats()).toMatchObject({ entries: 4, foreignKeys: 2 });
      expect(logger.messages('warn')).toContain(`redis: 2 keys under "${prefix}" are not cache entries; stats left them alone`);
      expect(await backend.clear()).toBe(4);
      expect(logger.messages('warn')).toContain(`redis: 2 keys under "${prefix}" are not cache entries; clear left them alone`);
      expect(await raw.get(`${prefix}someone-else`)).toBe('not a cache entry');
      expect(await raw.hget(`${prefix}a-hash`, 'field')).toBe('value');
      expect(await raw.exists(`${prefix}older-codec`)).toBe(0);
      expect(await backend.stats()).toMatchObject({ entries: 0, foreignKeys: 2 });
      await raw.del(`${prefix}someone-else`, `${prefix}a-hash`);
    } finally {
      await backend.close();
    }
  });

  it('clear({ namespace }) on a cluster removes that namespace from every master and nothing else', async () => {
    const prefix = uniquePrefix('cluster-scope');
    const backend = new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: prefix });
    try {
      for (let i = 0; i < 60; i++) await backend.set(`tenant-a:${i}`, createEntry(i));
      for (let i = 0; i < 20; i++) await backend.set(`tenant-b:${i}`, createEntry(i));
      expect((await backend.stats({ namespace: 'tenant-a' })).entries).toBe(60);
      expect(await backend.clear({ namespace: 'tenant-a' })).toBe(60);
      expect((await backend.stats()).entries).toBe(20);
      expect((await backend.get('tenant-b:3'))?.value).toBe(3);
    } finally {
      await backend.clear();
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
