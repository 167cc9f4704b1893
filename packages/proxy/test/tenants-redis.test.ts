import { randomUUID } from 'node:crypto';
import { RedisBackend } from '@tinyllm/cache-redis';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { type RedisServerHandle, requireRedisServer, sendCommand, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeysConfig } from '../src/index.js';
import { send, useStack } from './helpers.js';

// Under CI=true a missing redis-server fails here with the install hint; elsewhere the file is skipped, saying why.
const redisAvailable = requireRedisServer() !== undefined;
if (!redisAvailable) console.warn('proxy: redis-server not found, skipping the tenants-on-Redis tests (apt-get install redis-server)');

const A = 'tk-redis-team-a-0123456789';
const B = 'tk-redis-team-b-0123456789';
const ADMIN = 'tk-redis-admin-0123456789x';
const KEYS: KeysConfig = {
  keys: [
    { key: A, tenant: 'team-a' },
    { key: B, tenant: 'team-b' },
    { key: ADMIN, tenant: 'ops', role: 'admin' },
  ],
};

describe.runIf(redisAvailable)('tenants on a shared Redis', () => {
  let redis: RedisServerHandle;
  const prefix = `tinyllm-proxy-test:${randomUUID()}:`;
  const command = (...args: string[]) => sendCommand(redis.host, redis.port, args);
  let backend: RedisBackend | undefined;
  // Registered before useStack's hooks, so Redis is up when the proxy starts.
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(() => redis?.stop());
  const stack = useStack(
    {},
    {
      get cache() {
        backend ??= new RedisBackend({ host: redis.host, port: redis.port, keyPrefix: prefix });
        return ollamaResponseCache(backend, {});
      },
      keys: KEYS,
    },
  );

  const generate = (key: string, prompt: string) =>
    send(stack.proxy.url, '/api/generate', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt, stream: false }),
    });
  const clear = (key: string, query = '') => send(stack.proxy.url, `/tinyllm/clear${query}`, { method: 'POST', headers: { Authorization: `Bearer ${key}` } });
  const keysUnder = async (pattern: string): Promise<string[]> => ((await command('KEYS', pattern)) as string[]).sort();

  it("a user clears its tenant's entries only; an admin's clear stays inside the cache's prefix", async () => {
    await command('SET', 'other-app:session', 'keep me');
    await command('SET', `${prefix}team-a:not-an-entry`, 'a foreign key under the prefix');
    await command('SET', 'tinyllm-proxy-test:another-prefix:team-a:x', 'another cache');
    for (const prompt of ['one', 'two']) {
      expect((await generate(A, prompt)).headers['x-cache']).toBe('MISS');
      expect((await generate(B, prompt)).headers['x-cache']).toBe('MISS');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await keysUnder(`${prefix}team-a:*`)).toHaveLength(3);
    expect(await keysUnder(`${prefix}team-b:*`)).toHaveLength(2);

    // B's clear, even naming A, leaves A's entries.
    expect(JSON.parse((await clear(B, '?namespace=team-a')).text)).toEqual({ removed: 0, namespace: 'team-b:team-a' });
    expect(JSON.parse((await clear(B)).text)).toEqual({ removed: 2, namespace: 'team-b' });
    expect(await keysUnder(`${prefix}team-b:*`)).toEqual([]);
    expect(await keysUnder(`${prefix}team-a:*`)).toHaveLength(3);
    expect((await generate(A, 'one')).headers['x-cache']).toBe('HIT');

    // The admin's whole clear: every entry under the prefix, nothing else.
    expect(JSON.parse((await clear(ADMIN)).text)).toEqual({ removed: 2 });
    expect(await keysUnder(`${prefix}team-a:*`)).toEqual([`${prefix}team-a:not-an-entry`]);
    expect(await command('GET', 'other-app:session')).toBe('keep me');
    expect(await command('GET', 'tinyllm-proxy-test:another-prefix:team-a:x')).toBe('another cache');
  });
});
