import {
  type RedisSentinelHandle,
  type RedisServerHandle,
  type SilentServerHandle,
  startRedisSentinel,
  startRedisServer,
  startSilentServer,
} from '@tinyllm/redis-harness';
import { waitFor } from '@tinyllm/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe.skipIf(!redisAvailable)('Sentinel', () => {
  let master: RedisServerHandle;
  let sentinel: RedisSentinelHandle;
  let silent: SilentServerHandle;
  beforeAll(async () => {
    master = await startRedisServer({ local: true });
    [sentinel, silent] = await Promise.all([startRedisSentinel(master), startSilentServer()]);
  });
  afterAll(async () => {
    await Promise.all([sentinel?.stop(), silent?.close()]);
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

  it('a hung sentinel listed before a working one does not block the master lookup: hits resume', { timeout: 15_000 }, async () => {
    const keyPrefix = uniquePrefix('sentinel-hung');
    const sentinels = [
      { host: silent.host, port: silent.port }, // accepts, never answers
      { host: sentinel.host, port: sentinel.port },
    ];
    const cache = createRedisCache<string>({ sentinels, sentinelName: sentinel.name, keyPrefix });
    try {
      // The lookup gives up on the silent sentinel after sentinelCommandTimeout (connectTimeoutMs) and asks the next one.
      await waitFor(async () => {
        await cache.set('k', 'v');
        return (await cache.get('k')) === 'v';
      }, 8000);
      expect(cache.getMetrics().hits).toBeGreaterThan(0);
    } finally {
      await cache.close();
    }
  });

  it('the Sentinel client it creates bounds each sentinel command', async () => {
    const backend = new RedisBackend({ sentinels: [{ host: sentinel.host, port: sentinel.port }], sentinelName: sentinel.name, connectTimeoutMs: 700 });
    try {
      expect(await backend.ready()).toBe(true);
      expect((backend.client as Redis).options).toMatchObject({ sentinelCommandTimeout: 700, autoResendUnfulfilledCommands: false });
    } finally {
      await backend.close();
    }
  });
});
