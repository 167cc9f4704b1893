import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const fx = useCliFixture({ latencyMs: 20 });

describe('tinyllm cache-stats', () => {
  it('reports the figures every earlier process added (--json)', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'stats.sqlite'));
    await runCli(['run', 'first'], { env });
    await runCli(['run', 'second'], { env });
    await runCli(['run', 'first'], { env });
    const hit = await runCli(['run', '--output', 'json', 'first'], { env });
    const savedPerHit = (JSON.parse(hit.stdout) as { cache: { savedMs: number } }).cache.savedMs;

    const result = await runCli(['cache-stats', '--json'], { env });
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({
      backend: 'sqlite',
      location: join(fx.dir, 'stats.sqlite'),
      exists: true,
      entries: 2,
      hits: 2,
      misses: 2,
      hitRate: 0.5,
      sets: 2,
      evictions: 0,
      errors: 0,
    });
    expect(stats.bytes).toBeGreaterThan(0);
    expect(Date.parse(stats.oldestCreatedAt as string)).toBeLessThanOrEqual(Date.parse(stats.newestCreatedAt as string));
    expect(stats.savedTokens).toBeGreaterThan(0);
    expect(stats.savedMs).toBeGreaterThanOrEqual(2 * savedPerHit - 1);
    expect(stats.byModel).toEqual([
      { model: expect.stringMatching(/:/), hits: 2, misses: 2, hitRate: 0.5, savedMs: stats.savedMs, savedTokens: stats.savedTokens },
    ]);
  });

  it('prints a readable table', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'table.sqlite'));
    await runCli(['run', 'table'], { env });
    await runCli(['run', 'table'], { env });
    const result = await runCli(['cache-stats'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`sqlite cache  ${join(fx.dir, 'table.sqlite')}`);
    for (const label of ['entries', 'hits', 'misses', 'hit rate', 'evictions', 'errors', 'oldest', 'newest', 'saved']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${label} +\\S`, 'm'));
    }
    expect(result.stdout).toMatch(/hit rate +50\.0%/);
    expect(result.stdout).toMatch(/entries +1 \(\d+ B\)/);
    expect(result.stdout).toMatch(/saved +.+ of model time, \d+ tokens/);
    expect(result.stdout).toMatch(/^by model\n +model +hits +misses +hit rate +saved +tokens\n +\S+:\S+ +1 +1 +50\.0% /m);
    expect(result.stdout).not.toContain('\u001b['); // NO_COLOR and not a terminal
  });

  it('does not create a missing file', async () => {
    const path = join(fx.dir, 'missing.sqlite');
    const result = await runCli(['cache-stats', '--json', '--sqlite-path', path]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ exists: false, entries: 0, hits: 0, hitRate: 0 });
    expect(existsSync(path)).toBe(false);
  });
});

describe('tinyllm cache-clear', () => {
  it('--no-confirm removes the entries and says how many', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'clear.sqlite'));
    for (const prompt of ['a', 'b', 'c']) await runCli(['run', prompt], { env });
    const result = await runCli(['cache-clear', '--no-confirm'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`removed 3 entries from the sqlite cache at ${join(fx.dir, 'clear.sqlite')}\n`);
    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { entries: number };
    expect(stats.entries).toBe(0);
    const again = await runCli(['cache-clear', '--no-confirm', '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ removed: 0, backend: 'sqlite' });
    expect((await runCli(['run', 'a'], { env })).stderr).toContain('cache miss');
  });

  it('refuses without a terminal and without --no-confirm (exit 2)', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'refuse.sqlite'));
    await runCli(['run', 'keep me'], { env });
    const result = await runCli(['cache-clear'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-confirm');
    expect(result.stdout).toBe('');
    expect((JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { entries: number }).entries).toBe(1);
  });

  it('asks on a terminal: "y" clears, anything else keeps', async () => {
    const env = { ...envFor(fx.fake.url, join(fx.dir, 'ask.sqlite')), TINYLLM_TTY: '1' };
    await runCli(['run', 'one'], { env });
    await runCli(['run', 'two'], { env });
    const no = await runCli(['cache-clear'], { env, input: 'n\n' });
    expect(no.code).toBe(0);
    expect(no.stderr).toContain('Remove 2 entries from the sqlite cache');
    expect(no.stderr).toContain('cancelled');
    const yes = await runCli(['cache-clear'], { env, input: 'y\n' });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('removed 2 entries');
  });

  it('clears only its own cache: another file is untouched', async () => {
    const mine = envFor(fx.fake.url, join(fx.dir, 'mine.sqlite'));
    const other = envFor(fx.fake.url, join(fx.dir, 'other.sqlite'));
    await runCli(['run', 'mine'], { env: mine });
    await runCli(['run', 'other'], { env: other });
    expect((await runCli(['cache-clear', '--no-confirm'], { env: mine })).stdout).toContain('removed 1 entry');
    expect((JSON.parse((await runCli(['cache-stats', '--json'], { env: other })).stdout) as { entries: number }).entries).toBe(1);
  });
});
