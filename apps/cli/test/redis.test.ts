import { randomUUID } from 'node:crypto';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { type RedisServerHandle, requireRedisServer, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './helpers.js';

// Under CI=true a missing redis-server fails the suite (requireRedisServer throws); elsewhere it is skipped.
const available = process.env.REDIS_URL !== undefined || requireRedisServer() !== undefined;

describe.skipIf(!available)('redis backend against a real redis-server', () => {
  let fake: FakeOllamaServer;
  let redis: RedisServerHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeOllama({});
    redis = await startRedisServer();
    // A key prefix of our own: REDIS_URL may point at a shared server.
    env = {
      TINYLLM_OLLAMA_HOST: fake.url,
      TINYLLM_CACHE_BACKEND: 'redis',
      TINYLLM_REDIS_URL: redis.url,
      TINYLLM_REDIS_KEY_PREFIX: `tinyllm-cli-test:${randomUUID()}:`,
    };
  });

  afterAll(async () => {
    await fake?.close();
    await redis?.stop();
  });

  it('misses, then hits from another process; stats and clear see the same store', async () => {
    const before = fake.modelCalls();
    const first = await runCli(['run', 'Why is the sky blue?'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('cache miss');
    const second = await runCli(['run', 'Why is the sky blue?'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain('cache hit');
    expect(fake.modelCalls() - before).toBe(1);

    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ backend: 'redis', location: `${redis.host}:${redis.port}`, entries: 1, hits: 1, misses: 1, sets: 1, errors: 0 });
    expect(stats.savedMs).toBeGreaterThanOrEqual(0);

    const text = await runCli(['cache-stats'], { env });
    expect(text.stdout).toContain(`redis cache  ${redis.host}:${redis.port}`);

    const cleared = await runCli(['cache-clear', '--no-confirm'], { env });
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('removed 1 entry from the redis cache');
    expect((await runCli(['run', 'Why is the sky blue?'], { env })).stderr).toContain('cache miss');
  });

  it('host/port flags work as well as the URL', async () => {
    const flags = [
      '--cache-backend',
      'redis',
      '--redis-host',
      redis.host,
      '--redis-port',
      String(redis.port),
      '--redis-key-prefix',
      `tinyllm-cli-test:${randomUUID()}:`,
    ];
    const localEnv = { TINYLLM_OLLAMA_HOST: fake.url };
    if (redis.external) return; // an external REDIS_URL may need a password the flags do not carry
    expect((await runCli(['run', ...flags, 'flags'], { env: localEnv })).stderr).toContain('cache miss');
    expect((await runCli(['run', ...flags, 'flags'], { env: localEnv })).stderr).toContain('cache hit');
  });
});
