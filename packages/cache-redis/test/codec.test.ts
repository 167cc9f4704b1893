import { CacheDecodeError, createEntry, encodeEntry } from '@tinyllm/cache-core';
import { type RedisServerHandle, startRedisServer } from '@tinyllm/redis-harness';
import { recordingLogger } from '@tinyllm/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

const good = encodeEntry(createEntry({ response: 'hello', done: true }, { ttl: 60 }));

/** Values under our prefix that are not entries this codec version wrote. */
const corrupt: Record<string, string | Buffer> = {
  foreign: 'just a string someone else wrote',
  truncated: good.slice(0, good.length - 7),
  'older version': good.replace(/^tlc1:/, 'tlc0:'),
  'newer version': good.replace(/^tlc1:/, 'tlc2:'),
  'wrong layout': 'tlc1:{"value":1}',
  'wrong field types': 'tlc1:["now",null,0,0,0,null,1]',
  'invalid utf-8': Buffer.from([0x74, 0x6c, 0x63, 0x31, 0x3a, 0xff, 0xfe, 0x00]),
  empty: '',
};

describe.skipIf(!redisAvailable)('values that do not decode', () => {
  let server: RedisServerHandle;
  let raw: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await releaseServer(server);
  });

  it.each(Object.entries(corrupt))('%s: a miss with an error counted, and the next set overwrites it', async (_label, value) => {
    const prefix = uniquePrefix('codec');
    const logger = recordingLogger();
    const cache = createRedisCache<{ response: string }>({ url: server.url, keyPrefix: prefix, logger });
    try {
      await raw.set(`${prefix}k`, value);
      expect(await cache.get('k')).toBeUndefined();
      const metrics = cache.getMetrics();
      expect(metrics.errors).toBe(1);
      expect(metrics.misses).toBe(1);
      const logged = logger.records.find((r) => r.level === 'error');
      expect(CacheDecodeError.isInstance(logged?.context.err)).toBe(true);
      expect(await cache.getOrSet('k', () => ({ response: 'fresh' }))).toEqual({ response: 'fresh' });
      expect(await cache.get('k')).toEqual({ response: 'fresh' });
      expect(cache.getMetrics().hits).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('a key of another type under the prefix is a miss too, and set replaces it', async () => {
    const prefix = uniquePrefix('codec');
    const cache = createRedisCache({ url: server.url, keyPrefix: prefix });
    try {
      await raw.hset(`${prefix}k`, 'field', 'value');
      expect(await cache.get('k')).toBeUndefined();
      expect(cache.getMetrics().errors).toBe(1);
      expect(await cache.set('k', 'v')).toBe(true);
      expect(await cache.get('k')).toBe('v');
    } finally {
      await cache.close();
    }
  });

  it('the backend itself throws CacheDecodeError (not a generic error) for a corrupt value', async () => {
    const prefix = uniquePrefix('codec');
    const backend = new RedisBackend({ url: server.url, keyPrefix: prefix });
    try {
      await raw.set(`${prefix}k`, 'garbage');
      await expect(backend.get('k')).rejects.toSatisfy((error: unknown) => CacheDecodeError.isInstance(error));
    } finally {
      await backend.close();
    }
  });

  it('stores the codec string with a PX expiry derived from expiresAt', async () => {
    const prefix = uniquePrefix('codec');
    const backend = new RedisBackend({ url: server.url, keyPrefix: prefix });
    try {
      const entry = createEntry('v', { ttl: 30 });
      await backend.set('k', entry);
      expect(await raw.get(`${prefix}k`)).toBe(encodeEntry(entry));
      const pttl = await raw.pttl(`${prefix}k`);
      expect(pttl).toBeGreaterThan(29_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
      await backend.set('forever', createEntry('v', { ttl: null }));
      expect(await raw.pttl(`${prefix}forever`)).toBe(-1);
    } finally {
      await backend.close();
    }
  });
});
