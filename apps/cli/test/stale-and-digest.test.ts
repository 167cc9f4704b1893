import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// --stale-if-error and --bind-model-digest, end to end through the command and its SQLite store.
const fx = useCliFixture();
let n = 0;
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `stale-${++n}.sqlite`));

type JsonAnswer = { response: string; cache: { status: string } };
const statusOf = (stdout: string): string => (JSON.parse(stdout) as JsonAnswer).cache.status;

describe('--stale-if-error', () => {
  it('serves the expired answer when Ollama fails, says so, and counts it; without the flag the error comes through', async () => {
    const env = freshEnv();
    const ask = (...flags: string[]) => runCli(['run', '--output', 'json', '--cache-ttl', '1', ...flags, 'stale from the cli'], { env });
    const first = await ask('--stale-if-error', '3600');
    expect(statusOf(first.stdout)).toBe('miss');
    await sleep(1100);
    // Every attempt fails (the client retries a 5xx).
    fx.fake.failNext({ kind: 'status', status: 500 }, Number.POSITIVE_INFINITY);
    const failed = await ask();
    expect(failed.code).not.toBe(0);
    const stale = await ask('--stale-if-error', '3600');
    fx.fake.clearFaults();
    expect(stale.code).toBe(0);
    expect(statusOf(stale.stdout)).toBe('stale');
    expect((JSON.parse(stale.stdout) as JsonAnswer).response).toBe((JSON.parse(first.stdout) as JsonAnswer).response);
    const stats = await runCli(['cache-stats', '--json'], { env });
    expect(JSON.parse(stats.stdout)).toMatchObject({ stale: 1, hits: 0 });
  });

  it('refuses a value that is not whole seconds (exit 2)', async () => {
    const result = await runCli(['run', '--stale-if-error', '-1', 'x'], { env: freshEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Expected a whole number of seconds from 0 (off) to 315,360,000 (10 years).');
  });
});

describe('--bind-model-digest', () => {
  it('a model re-pulled with a new digest misses', async () => {
    const env = freshEnv();
    const ask = () => runCli(['run', '--output', 'json', '--bind-model-digest', 'bound from the cli'], { env });
    expect(statusOf((await ask()).stdout)).toBe('miss');
    expect(statusOf((await ask()).stdout)).toBe('hit');
    fx.fake.setModelDigest('qwen2.5:0.5b');
    expect(statusOf((await ask()).stdout)).toBe('miss');
    expect(statusOf((await ask()).stdout)).toBe('hit');
  });
});
