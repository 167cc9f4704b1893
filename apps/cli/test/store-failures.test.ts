import { closeSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// A SQLite cache file that breaks: damaged pages, garbage, another process's lock.
const fx = useCliFixture();
let n = 0;
const freshPath = (): string => join(fx.dir, `store-${++n}.sqlite`);

/** better-sqlite3, from the package that depends on it (the test holds a lock with it). */
type Database = { exec(sql: string): void; close(): void };
const openDatabase = (path: string): Database => {
  const require = createRequire(new URL('../../../packages/cache-sqlite/package.json', import.meta.url));
  const Driver = require('better-sqlite3') as new (path: string) => Database;
  return new Driver(path);
};

/** A cache file with entries whose pages after the first two are overwritten: SQLite reports "database disk image is malformed". */
async function damagedCache(path: string): Promise<void> {
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `filler ${i}`, max_tokens: 300 })).join('\n');
  const warmed = await runCli(['warm', '-', '--sqlite-path', path], { env: { TINYLLM_OLLAMA_HOST: fx.fake.url }, input: lines });
  expect(warmed.code).toBe(0);
  const size = statSync(path).size;
  expect(size).toBeGreaterThan(4 * 4096);
  const fd = openSync(path, 'r+');
  try {
    const junk = Buffer.alloc(size - 2 * 4096, 0xa5);
    writeSync(fd, junk, 0, junk.length, 2 * 4096);
  } finally {
    closeSync(fd);
  }
}

describe('a damaged SQLite file', () => {
  it('cache-stats and cache-clear say it is damaged and how to start afresh (exit 1)', async () => {
    const path = freshPath();
    await damagedCache(path);
    for (const args of [['cache-stats'], ['cache-stats', '--json'], ['cache-clear', '--no-confirm']]) {
      const result = await runCli([...args, '--sqlite-path', path]);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain('unexpected error');
      expect(result.stderr).toContain(`the SQLite cache at ${path} is damaged`);
      expect(result.stderr).toContain(`delete it (rm ${path}) to start afresh`);
      expect(result.stdout).toBe('');
    }
  });

  it('a file that is not a database at all: the same advice', async () => {
    const path = freshPath();
    writeFileSync(path, Buffer.alloc(20_000, 0x5a));
    const result = await runCli(['cache-stats', '--sqlite-path', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the SQLite cache at ${path} is damaged`);
    expect(result.stderr).toContain(`rm ${path}`);
  });

  it('run answers, but says the answer was not stored instead of "stored for"', async () => {
    const path = freshPath();
    await damagedCache(path);
    const result = await runCli(['run', 'not stored, damaged file'], { env: envFor(fx.fake.url, path) });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).not.toBe('');
    expect(result.stderr).toContain('cache miss');
    expect(result.stderr).not.toContain('stored for');
    expect(result.stderr).toMatch(/warning: the cache store failed \(.*is damaged.*\): the answer was not stored/);
  });

  it('warm counts the lines whose write failed as failed (exit 1)', async () => {
    const path = freshPath();
    await damagedCache(path);
    const result = await runCli(['warm', '-', '--output', 'json'], { env: envFor(fx.fake.url, path), input: 'never stored 1\nnever stored 2\n' });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as { warmed: number; failed: number; failures: Array<{ line: number; reason: string }> };
    expect(summary).toMatchObject({ warmed: 0, failed: 2 });
    expect(summary.failures.map((f) => f.line)).toEqual([1, 2]);
    for (const failure of summary.failures) expect(failure.reason).toMatch(/^the answer was not stored: the cache store failed \(.*is damaged/);
  });
});

describe('a SQLite file locked by another process', () => {
  it('cache-clear says it is locked, not "unexpected error" (exit 1)', async () => {
    const path = freshPath();
    expect((await runCli(['run', 'to be locked'], { env: envFor(fx.fake.url, path) })).code).toBe(0);
    const db = openDatabase(path);
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = await runCli(['cache-clear', '--no-confirm', '--sqlite-path', path], { timeoutMs: 25_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain('unexpected error');
      expect(result.stderr).toContain(`the SQLite cache at ${path} is locked by another process`);
      expect(result.stderr).toContain('try again');
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
  });
});

describe('TINYLLM_CACHE belongs to run and warm', () => {
  it('an invalid value does not break cache-stats or cache-clear', async () => {
    const path = freshPath();
    expect((await runCli(['run', 'toggle'], { env: envFor(fx.fake.url, path) })).code).toBe(0);
    const stats = await runCli(['cache-stats', '--json', '--sqlite-path', path], { env: { TINYLLM_CACHE: 'maybe' } });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ entries: 1 });
    // Not even "false" turns them off: they have no cache to turn off.
    const cleared = await runCli(['cache-clear', '--no-confirm', '--sqlite-path', path], { env: { TINYLLM_CACHE: 'false' } });
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('removed 1 entry');
    const invalid = await runCli(['cache-clear', '--no-confirm', '--sqlite-path', path], { env: { TINYLLM_CACHE: 'maybe' } });
    expect(invalid.code).toBe(0);
    // run still checks it.
    const run = await runCli(['run', 'toggle'], { env: { ...envFor(fx.fake.url, path), TINYLLM_CACHE: 'maybe' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('TINYLLM_CACHE');
  });
});
