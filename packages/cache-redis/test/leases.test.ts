import type { ResponseCache } from '@tinyllm/cache-core';
import { type RedisClusterHandle, type RedisServerHandle, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { sleep } from '@tinyllm/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe.skipIf(!redisAvailable)('Redis leases (cross-process single flight)', () => {
  let server: RedisServerHandle;
  let cluster: RedisClusterHandle;
  beforeAll(async () => ([server, cluster] = await Promise.all([startRedisServer({ local: true }), startRedisCluster()])));
  afterAll(() => Promise.all([releaseServer(server), cluster?.stop()]));

  const open: Array<ResponseCache<string> | RedisBackend> = [];
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((item) => item.close()));
  });
  const caches = (count: number, where: { url?: string; clusterNodes?: RedisClusterHandle['nodes'] }, leaseTtlMs = 5000): Array<ResponseCache<string>> => {
    const keyPrefix = uniquePrefix('leases');
    const made = Array.from({ length: count }, () => createRedisCache<string>({ ...where, keyPrefix, leaseTtlMs }));
    open.push(...made);
    return made;
  };

  for (const mode of ['standalone', 'cluster'] as const) {
    it(`${mode}: four caches (each its own connections) missing one key make one computation; the rest read its entry`, async () => {
      const where = mode === 'standalone' ? { url: server.url } : { clusterNodes: cluster.nodes };
      const fleet = caches(4, where);
      let calls = 0;
      const compute = async (): Promise<string> => {
        calls++;
        await sleep(150);
        return 'the answer';
      };
      const results = await Promise.all(fleet.flatMap((cache) => Array.from({ length: 25 }, () => cache.resolve('question', compute))));
      expect(calls).toBe(1);
      expect(results.every((r) => r.value === 'the answer')).toBe(true);
      const metrics = fleet.map((cache) => cache.getMetrics());
      expect(metrics.reduce((sum, m) => sum + m.coalescedRemote, 0)).toBe(3);
      expect(metrics.reduce((sum, m) => sum + m.coalesced, 0)).toBe(96);
      expect(metrics.reduce((sum, m) => sum + m.errors, 0)).toBe(0);
      // Lease keys are gone after the release and never counted as entries or foreign keys.
      expect(await fleet[0]?.getStats()).toMatchObject({ backend: { entries: 1, foreignKeys: 0 } });
    });
  }

  for (const mode of ['standalone', 'cluster'] as const) {
    it(`${mode}: a release wakes a waiter through pub/sub, long before its wait slice ends`, async () => {
      const keyPrefix = uniquePrefix('wake');
      const where = mode === 'standalone' ? { url: server.url } : { clusterNodes: cluster.nodes };
      const a = new RedisBackend({ ...where, keyPrefix });
      const b = new RedisBackend({ ...where, keyPrefix });
      open.push(a, b);
      const token = (await a.leases.acquire('k', 30_000)) as string;
      expect(typeof token).toBe('string');
      let woke = false;
      const waiting = b.leases.waitForOutcome('k', 60_000).then(() => {
        woke = true;
      });
      await sleep(300);
      expect(woke).toBe(false);
      expect(await a.leases.release('k', token)).toBe(true);
      await Promise.race([waiting, sleep(5_000)]);
      expect(woke).toBe(true);
    });
  }

  it('a lease held while a scoped clear() runs stays out of the counts: entries and foreign keys are only entries', async () => {
    const keyPrefix = uniquePrefix('clear');
    const backend = new RedisBackend({ url: server.url, keyPrefix });
    open.push(backend);
    await backend.leases.acquire('tenant:k', 30_000);
    expect(await backend.stats()).toMatchObject({ entries: 0, foreignKeys: 0 });
    expect(await backend.clear({ namespace: 'tenant' })).toBe(0);
    expect(await backend.clear()).toBe(0);
  });

  it('Redis down: every call computes (0 failures), lease errors are counted', async () => {
    const local = await startRedisServer({ local: true });
    try {
      const keyPrefix = uniquePrefix('down');
      const fleet = [0, 1].map(() => createRedisCache<string>({ url: local.url, keyPrefix }));
      open.push(...fleet);
      await Promise.all(fleet.map((cache) => cache.get('warm-up')));
      await local.kill();
      let calls = 0;
      const results = await Promise.all(
        fleet.map((cache) =>
          cache.resolve('k', async () => {
            calls++;
            return 'computed';
          }),
        ),
      );
      expect(results.map((r) => r.value)).toEqual(['computed', 'computed']);
      expect(calls).toBe(2);
      for (const cache of fleet) expect(cache.getMetrics().errors).toBeGreaterThanOrEqual(2); // the read and the lease
    } finally {
      await local.stop();
    }
  });
});
