import { join } from 'node:path';
import { SqliteBackend } from '@tinyllm/cache-sqlite';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// --cache-ttl 0 once meant "never expires" here and "store nothing" in the library: it is refused,
// with the two spellings that say what was meant.
const fx = useCliFixture();
let n = 0;
const freshPath = (): string => join(fx.dir, `ttl-${++n}.sqlite`);

type JsonAnswer = { response: string; cache: { status: string; key: string | null; stored: boolean | null } };

/** The stored entry's expiry, read from the SQLite file the command wrote. */
function expiresAtOf(path: string, key: string): number | null | undefined {
  const backend = new SqliteBackend({ path });
  try {
    return backend.get(key)?.expiresAt;
  } finally {
    backend.close();
  }
}

describe('--cache-ttl 0 is refused (exit 2)', () => {
  it('as a flag, naming --cache-ttl never and --no-store', async () => {
    const before = fx.fake.modelCalls();
    const result = await runCli(['run', '--cache-ttl', '0', 'ttl zero'], { env: envFor(fx.fake.url, freshPath()) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cache-ttl');
    expect(result.stderr).toContain('use --cache-ttl never for entries that never expire, or --no-store to not store the answer');
    expect(fx.fake.modelCalls()).toBe(before);
  });

  it('as TINYLLM_CACHE_TTL=0, naming the variable', async () => {
    for (const command of [
      ['run', 'ttl zero'],
      ['chat', 'ttl zero'],
      ['warm', '-'],
    ]) {
      const result = await runCli(command, { env: { ...envFor(fx.fake.url, freshPath()), TINYLLM_CACHE_TTL: '0' }, input: 'ttl zero\n' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('TINYLLM_CACHE_TTL');
      expect(result.stderr).toContain('--cache-ttl never');
    }
  });
});

describe('--cache-ttl never', () => {
  it('stores the answer without an expiry, and it hits', async () => {
    const path = freshPath();
    const env = envFor(fx.fake.url, path);
    const first = await runCli(['run', '--cache-ttl', 'never', '--output', 'json', 'forever prompt'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('stored without expiry');
    const { cache } = JSON.parse(first.stdout) as JsonAnswer;
    expect(cache).toMatchObject({ status: 'miss', stored: true });
    expect(expiresAtOf(path, cache.key as string)).toBeNull();
    expect((await runCli(['run', 'forever prompt'], { env })).stderr).toContain('cache hit');
  });

  it('also through TINYLLM_CACHE_TTL=never, while a number keeps an expiry', async () => {
    const path = freshPath();
    const env = envFor(fx.fake.url, path);
    const never = await runCli(['run', '--output', 'json', 'env forever'], { env: { ...env, TINYLLM_CACHE_TTL: 'never' } });
    expect(expiresAtOf(path, (JSON.parse(never.stdout) as JsonAnswer).cache.key as string)).toBeNull();
    const hour = await runCli(['run', '--output', 'json', 'env one hour'], { env });
    const expiresAt = expiresAtOf(path, (JSON.parse(hour.stdout) as JsonAnswer).cache.key as string);
    expect(expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });
});

describe('--no-store', () => {
  it('answers from the model without storing: the next run misses again', async () => {
    const env = envFor(fx.fake.url, freshPath());
    const before = fx.fake.modelCalls();
    const first = await runCli(['run', '--no-store', 'not kept'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/cache miss · answered in .+ · not stored \(--no-store\)/);
    expect(first.stderr).not.toContain('warning');
    const second = await runCli(['run', '--no-store', '--output', 'json', 'not kept'], { env });
    expect((JSON.parse(second.stdout) as JsonAnswer).cache).toMatchObject({ status: 'miss', stored: false });
    expect(fx.fake.modelCalls() - before).toBe(2);
    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { entries: number };
    expect(stats.entries).toBe(0);
  });

  it('still serves an answer that is already stored', async () => {
    const env = envFor(fx.fake.url, freshPath());
    await runCli(['chat', 'kept before'], { env });
    const hit = await runCli(['chat', '--no-store', '--output', 'json', 'kept before'], { env });
    expect((JSON.parse(hit.stdout) as JsonAnswer).cache).toMatchObject({ status: 'hit', stored: null });
  });
});

describe('--output json says whether the answer was stored', () => {
  it('true on a stored miss, null on a hit, false with the cache off', async () => {
    const env = envFor(fx.fake.url, freshPath());
    const miss = JSON.parse((await runCli(['run', '--output', 'json', 'stored field'], { env })).stdout) as JsonAnswer;
    expect(miss.cache).toMatchObject({ status: 'miss', stored: true });
    const hit = JSON.parse((await runCli(['run', '--output', 'json', 'stored field'], { env })).stdout) as JsonAnswer;
    expect(hit.cache).toMatchObject({ status: 'hit', stored: null });
    const off = JSON.parse((await runCli(['run', '--no-cache', '--output', 'json', 'stored field'], { env })).stdout) as JsonAnswer;
    expect(off.cache).toMatchObject({ status: 'bypass', key: null, stored: false });
  });
});
