import { randomUUID } from 'node:crypto';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { findRedisServer, type RedisServerHandle, requireRedisServer, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './helpers.js';

// Under CI=true a missing redis-server fails the suite (requireRedisServer throws); elsewhere it is skipped.
const available = process.env.REDIS_URL !== undefined || requireRedisServer() !== undefined;
// Fault tests kill their own server or give it a password: they need redis-server itself, even with REDIS_URL set.
const canSpawn = process.env.REDIS_URL === undefined ? available : findRedisServer() !== undefined;

/** Resolves once check() holds (polling every 10 ms), failing after timeoutMs. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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

describe.skipIf(!canSpawn)('a Redis server that fails', () => {
  let fake: FakeOllamaServer;

  beforeAll(async () => {
    assertBuilt();
    // Time to kill the server while the model is still answering.
    fake = await startFakeOllama({ latencyMs: 700 });
  });

  afterAll(async () => {
    await fake?.close();
  });

  const envOf = (redis: RedisServerHandle): Record<string, string> => ({
    TINYLLM_OLLAMA_HOST: fake.url,
    TINYLLM_CACHE_BACKEND: 'redis',
    TINYLLM_REDIS_URL: redis.url,
  });

  it('killed while run waits for the model: the answer comes, with a warning instead of "stored for"', async () => {
    const redis = await startRedisServer({ local: true });
    try {
      const before = fake.modelCalls();
      const running = runCli(['run', 'redis dies mid-run'], { env: envOf(redis) });
      await until(() => fake.modelCalls() > before);
      await redis.kill();
      const result = await running;
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).not.toBe('');
      expect(result.stderr).toContain('cache miss');
      expect(result.stderr).not.toContain('stored for');
      expect(result.stderr).toContain(`warning: the cache store failed (the Redis server at ${redis.host}:${redis.port} failed`);
      expect(result.stderr).toContain('the answer was not stored');
    } finally {
      await redis.stop();
    }
  });

  it('killed mid-warm: the lines whose write failed count as failed, with the reason (exit 1)', async () => {
    const redis = await startRedisServer({ local: true });
    try {
      const before = fake.modelCalls();
      const running = runCli(['warm', '-', '--concurrency', '1', '--output', 'json'], { env: envOf(redis), input: 'kept line\nlost line\nlost too\n' });
      // Line 1 is answered and stored; line 2 is at the model when the server dies.
      await until(() => fake.modelCalls() - before >= 2);
      await redis.kill();
      const result = await running;
      expect(result.code).toBe(1);
      const summary = JSON.parse(result.stdout) as { warmed: number; failed: number; failures: Array<{ line: number; reason: string }> };
      expect(summary).toMatchObject({ warmed: 1, failed: 2 });
      expect(summary.failures.map((f) => f.line)).toEqual([2, 3]);
      for (const failure of summary.failures) {
        expect(failure.reason).toContain(`the answer was not stored: the cache store failed (the Redis server at ${redis.host}:${redis.port} failed`);
      }
    } finally {
      await redis.stop();
    }
  });

  it('a rejected password points at --redis-password, not at a missing server', async () => {
    const redis = await startRedisServer({ local: true, password: 'right-password' });
    try {
      const address = `${redis.host}:${redis.port}`;
      for (const flags of [[], ['--redis-password', 'wrong-password']]) {
        const result = await runCli(['cache-stats', '--backend', 'redis', '--redis-port', String(redis.port), ...flags]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`Redis at ${address} refused the login`);
        expect(result.stderr).toContain('--redis-password');
        expect(result.stderr).not.toContain('is redis-server running');
      }
    } finally {
      await redis.stop();
    }
  });

  it("a password the server does not need: one warning in the command's words, never ioredis's [WARN] line", async () => {
    const redis = await startRedisServer({ local: true });
    try {
      const address = `${redis.host}:${redis.port}`;
      const stats = await runCli(['cache-stats', '--backend', 'redis', '--redis-port', String(redis.port), '--redis-password', 'not-needed']);
      expect(stats.code).toBe(0);
      expect(stats.stdout).toContain(`redis cache  ${address}`);
      expect(stats.stderr).toContain(
        `warning: Redis at ${address} needs no password, but one was given (--redis-password, TINYLLM_REDIS_PASSWORD or the URL): it was ignored`,
      );
      expect(stats.stderr).not.toContain('[WARN]');
      const run = await runCli(['run', 'password not needed'], { env: { ...envOf(redis), TINYLLM_REDIS_PASSWORD: 'not-needed' } });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('cache miss');
      expect(run.stderr.match(/needs no password/g)?.length).toBe(1);
      expect(run.stderr).not.toContain('[WARN]');
    } finally {
      await redis.stop();
    }
  });

  it('a database index the server does not have points at --redis-db', async () => {
    const redis = await startRedisServer({ local: true });
    try {
      for (const args of [
        ['cache-clear', '--no-confirm', '--backend', 'redis', '--redis-url', redis.url, '--redis-db', '99'],
        ['cache-stats', '--backend', 'redis', '--redis-url', `${redis.url}/99`],
      ]) {
        const result = await runCli(args);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`Redis at ${redis.host}:${redis.port} has no database 99 (ERR DB index is out of range)`);
        expect(result.stderr).toContain('--redis-db');
        expect(result.stderr).not.toContain('is redis-server running');
      }
    } finally {
      await redis.stop();
    }
  });
});
