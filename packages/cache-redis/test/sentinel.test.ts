import { type RedisSentinelHandle, type RedisServerHandle, startRedisSentinel, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe.skipIf(!redisAvailable)('Sentinel', () => {
  let master: RedisServerHandle;
  let sentinel: RedisSentinelHandle;
  beforeAll(async () => {
    master = await startRedisServer({ local: true });
    sentinel = await startRedisSentinel(master);
  });
  afterAll(async () => {
    await sentinel?.stop();
    await releaseServer(master);
  });

  it('finds the master through the sentinel and caches there', async () => {
    const keyPrefix = uniquePrefix('sentinel');
    const cache = createRedisCache<string>({ sentinels: [{ host: sentinel.host, port: sentinel.port }], sentinelName: sentinel.name, keyPrefix });
    const direct = createRedisCache<string>({ port: master.port, keyPrefix });
    try {
      expect(await cache.getOrSet('k', () => 'v')).toBe('v');
      expect(await cache.get('k')).toBe('v');
      expect(await direct.get('k')).toBe('v'); // really on the master
      expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    } finally {
      await Promise.all([cache.close(), direct.close()]);
    }
  });

  it('an unknown master name falls through within the deadline', async () => {
    const cache = createRedisCache<string>({ sentinels: [{ host: sentinel.host, port: sentinel.port }], sentinelName: 'no-such-master' });
    try {
      const started = performance.now();
      expect(await cache.getOrSet('k', () => 'computed')).toBe('computed');
      expect(performance.now() - started).toBeLessThan(700);
      expect(cache.getMetrics().errors).toBeGreaterThan(0);
    } finally {
      await cache.close();
    }
  });
});
