import { createEntry, InvalidOptionError } from '@tinyllm/cache-core';
import { type RedisServerHandle, startRedisServer } from '@tinyllm/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, REDIS_DEFAULTS, RedisBackend } from '../src/index.js';
import { reconnectDelay, resolveRedisOptions } from '../src/options.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe('options', () => {
  const invalid: Array<[string, Record<string, unknown>]> = [
    ['port', { port: 0 }],
    ['port', { port: 65536 }],
    ['port', { port: 6379.5 }],
    ['port', { port: '6379' }],
    ['host', { host: 42 }],
    ['host', { host: '' }],
    ['db', { db: -1 }],
    ['db', { db: 1.5 }],
    ['keyPrefix', { keyPrefix: '' }],
    ['url', { url: 'http://localhost' }],
    ['url', { url: 'not a url' }],
    ['url', { url: 'redis://localhost/abc' }],
    ['commandTimeoutMs', { commandTimeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: 100 }],
    ['connectTimeoutMs', { connectTimeoutMs: Number.NaN }],
    ['sentinelName', { sentinels: [{ host: 'h', port: 26379 }] }],
    ['sentinels[0].port', { sentinels: [{ host: 'h', port: -1 }], sentinelName: 'm' }],
    ['clusterNodes', { clusterNodes: [] }],
    ['db', { clusterNodes: [{ host: 'h', port: 7000 }], db: 2 }],
    ['redisOptions.keyPrefix', { redisOptions: { keyPrefix: 'x:' } }],
    ['client', { client: { get: () => 1 } }],
    ['logger', { logger: console.log }],
  ];
  it.each(invalid)('rejects a bad %s with InvalidOptionError naming it', (option, options) => {
    let caught: unknown;
    try {
      resolveRedisOptions(options);
    } catch (error) {
      caught = error;
    }
    expect(InvalidOptionError.isInstance(caught)).toBe(true);
    expect((caught as InvalidOptionError).option).toBe(option);
    expect(() => new RedisBackend(options)).toThrow(/Invalid option/);
  });

  it('fills in the documented defaults, and takes the url apart', () => {
    const defaults = resolveRedisOptions({});
    expect(defaults).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      keyPrefix: 'tinyllm:cache:',
      commandTimeoutMs: 200,
      connectTimeoutMs: 1000,
      counterFlushMs: 100,
    });
    const fromUrl = resolveRedisOptions({ url: 'rediss://me:p%40ss@cache.example:6380/3' });
    expect(fromUrl).toMatchObject({ host: 'cache.example', port: 6380, db: 3, username: 'me', password: 'p@ss', tls: {} });
    expect(resolveRedisOptions({ url: 'redis://cache.example:6380/3', db: 5, port: 7000 })).toMatchObject({ port: 7000, db: 5 });
  });

  it('the old backend option timeoutMs is refused with the name it has now', () => {
    expect(() => new RedisBackend({ timeoutMs: 100 } as never)).toThrow(
      /Invalid option timeoutMs: 100 \(expected commandTimeoutMs: the backend option was renamed/,
    );
  });

  it('reconnects with a capped backoff that is always a number', () => {
    const delays = Array.from({ length: 50 }, (_, i) => reconnectDelay(i + 1));
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1000]);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(REDIS_DEFAULTS.maxReconnectDelayMs);
  });
});

describe.skipIf(!redisAvailable)('a supplied client', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => releaseServer(server));

  it('is used as is and left open by close()', async () => {
    const client = new Redis(server.url);
    const backend = new RedisBackend({ client, keyPrefix: uniquePrefix('client') });
    try {
      expect(await backend.ready()).toBe(true);
      await backend.set('k', createEntry('v'));
      expect((await backend.get('k'))?.value).toBe('v');
      await backend.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('is quit by close() with closeClient: true', async () => {
    const client = new Redis(server.url, { lazyConnect: true });
    const backend = new RedisBackend({ client, closeClient: true, keyPrefix: uniquePrefix('client') });
    expect(await backend.ready()).toBe(true); // a lazy client is connected by the backend
    await backend.close();
    expect(client.status).toBe('end');
  });

  it('a backend it creates gives its client the safe defaults (no resend of unanswered writes, a short disconnect)', async () => {
    const backend = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('client') });
    try {
      expect(await backend.ready()).toBe(true);
      expect((backend.client as Redis).options).toMatchObject({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: 200,
        connectTimeout: 1000,
        autoResendUnfulfilledCommands: false,
        disconnectTimeout: 500,
      });
    } finally {
      await backend.close();
    }
  });

  it('createRedisCache: timeoutMs is the cache deadline and, unless commandTimeoutMs is given, the command timeout too', async () => {
    const caches = [
      createRedisCache({ url: server.url, keyPrefix: uniquePrefix('timeouts'), timeoutMs: 150 }),
      createRedisCache({ url: server.url, keyPrefix: uniquePrefix('timeouts'), timeoutMs: 400, commandTimeoutMs: 100 }),
      createRedisCache({ url: server.url, keyPrefix: uniquePrefix('timeouts') }),
    ];
    try {
      const seen = caches.map((cache) => ({ deadline: cache.timeoutMs, command: ((cache.backend as RedisBackend).client as Redis).options.commandTimeout }));
      expect(seen).toEqual([
        { deadline: 150, command: 150 },
        { deadline: 400, command: 100 },
        { deadline: 250, command: 200 },
      ]);
    } finally {
      await Promise.all(caches.map((cache) => cache.close()));
    }
  });

  it('a backend it creates is quit by close()', async () => {
    const backend = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('client') });
    expect(await backend.ready()).toBe(true);
    await backend.close();
    expect(backend.client.status).toBe('end');
  });
});
