import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError } from '@tinyllm/cache-core';
import { test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { bundleFixture, dbPath, lockInAnotherProcess, runNode } from './helpers.js';

const PROCESSES = 8;

describe('cross-process single flight on one file', () => {
  test(`${PROCESSES} processes asking one new question at once compute it once`, async ({ tempDir }) => {
    const script = join(tempDir, 'lease-worker.mjs');
    const log = join(tempDir, 'computed.log');
    const path = dbPath(tempDir);
    await bundleFixture('lease-worker.ts', script);
    // Created first, so the processes race for the lease rather than for the schema.
    new SqliteBackend({ path, namespace: 'leases' }).close();
    const results = await Promise.all(Array.from({ length: PROCESSES }, (_, id) => runNode(script, [path, log, String(id)])));
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const answers = results.map((result) => JSON.parse(result.stdout) as { status: string; remote: boolean; value: string; errors: number });
    // (With each process's answer in the message: an error count says a lease call failed, not a race.)
    expect(readFileSync(log, 'utf8').trim().split('\n'), JSON.stringify(answers)).toHaveLength(1);
    expect(answers.every((answer) => answer.value === 'the answer' && answer.errors === 0)).toBe(true);
    expect(answers.map((answer) => answer.status).sort()).toEqual([...Array(PROCESSES - 1).fill('hit'), 'miss']);
    // (Those that started while it was computed waited for it, remote: true; any that started later hit.)
  }, 60_000);

  test('a fresh file and an old version-1 file both get the leases table (schema version 3 and later)', ({ tempDir }) => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
    const fresh = join(tempDir, 'fresh.sqlite');
    const backend = new SqliteBackend({ path: fresh });
    expect(typeof backend.leases?.acquire('k', 1000)).toBe('string');
    backend.close();

    const old = join(tempDir, 'old.sqlite');
    new SqliteBackend({ path: old }).close();
    const raw = new Database(old);
    // Back to what version 1 wrote: without the later versions' tables and columns.
    raw.exec(
      'DROP TABLE leases; ALTER TABLE entries DROP COLUMN stale_until; ALTER TABLE counters DROP COLUMN stale; ALTER TABLE entries DROP COLUMN endpoint; ALTER TABLE entries DROP COLUMN model; ALTER TABLE entries DROP COLUMN value_bytes; DROP TABLE model_counters;',
    );
    raw.pragma('user_version = 1');
    raw.close();
    const upgraded = new SqliteBackend({ path: old });
    expect(typeof upgraded.leases?.acquire('k', 1000)).toBe('string');
    upgraded.close();
    const check = new Database(old, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  test('lease rows are not entries, and stay within their namespace', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const a = new SqliteBackend({ path, namespace: 'a' });
    const b = new SqliteBackend({ path, namespace: 'b' });
    expect(typeof a.leases?.acquire('k', 10_000)).toBe('string');
    expect(typeof b.leases?.acquire('k', 10_000)).toBe('string');
    expect(a.stats().entries).toBe(0);
    expect(a.clear()).toBe(0);
    a.close();
    b.close();
  });

  test('a lock another process holds for a while: the acquire waits for it (from a timer) and takes the lease', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, busyTimeoutMs: 10_000 });
    const lock = await lockInAnotherProcess(path);
    let locked = true;
    try {
      const taking = backend.leases?.acquire('k', 10_000);
      expect(taking).toBeInstanceOf(Promise);
      // The event loop is free meanwhile: a timer fires while the acquire waits.
      const ticks = await new Promise<number>((resolve) => {
        let count = 0;
        const timer = setInterval(() => {
          if (++count === 5) {
            clearInterval(timer);
            resolve(count);
          }
        }, 20);
      });
      expect(ticks).toBe(5);
      await lock.release();
      locked = false;
      expect(typeof (await taking)).toBe('string');
      expect(await backend.leases?.acquire('k', 10_000)).toBeUndefined();
    } finally {
      if (locked) await lock.release();
      backend.close();
    }
  }, 30_000);

  test('a file another process keeps locked: the lease is skipped (a BackendError after busyTimeoutMs), and a miss computes on its own, counted', async ({
    tempDir,
  }) => {
    const path = dbPath(tempDir);
    new SqliteBackend({ path }).close();
    const cache = createSqliteCache<string>({ path, busyTimeoutMs: 1_000, timeoutMs: 5_000 });
    const lock = await lockInAnotherProcess(path);
    try {
      const leases = (cache.backend as SqliteBackend).leases;
      await expect(Promise.resolve().then(() => leases?.acquire('k', 1000))).rejects.toThrow(BackendError);
      const result = await cache.resolve('k', () => 'computed');
      expect(result).toMatchObject({ status: 'miss', value: 'computed' });
      expect(cache.getMetrics().errors).toBeGreaterThanOrEqual(1);
    } finally {
      await lock.release();
      await cache.close();
    }
  }, 30_000);
});
