import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { BackendError, type CacheLogger, createEntry } from '@tinyllm/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { tempDbPath } from './helpers.js';

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

// Another process that takes the write lock (BEGIN IMMEDIATE), says "locked", and holds it until its
// stdin ends (or the test process dies), then commits and says "released".
const LOCKER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\\n');
});
`;

type Locker = ChildProcessByStdio<Writable, Readable, null>;
const lockers = new Set<Locker>();
afterEach(() => {
  for (const locker of lockers) locker.kill();
  lockers.clear();
});

function waitFor(locker: Locker, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: string): void => {
      out += chunk;
      if (out.includes(`${line}\n`)) {
        locker.stdout.off('data', onData);
        resolve();
      }
    };
    locker.stdout.setEncoding('utf8').on('data', onData);
    locker.once('exit', (code) => reject(new Error(`the locker exited (${code}) before "${line}": ${out}`)));
  });
}

/** Starts a second process holding the write lock of path; resolves once it holds it, with a function that releases it. */
async function lockInAnotherProcess(path: string): Promise<{ release: () => Promise<void> }> {
  const locker = spawn(process.execPath, ['-e', LOCKER, betterSqlite, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  lockers.add(locker);
  await waitFor(locker, 'locked');
  return {
    release: async () => {
      const released = waitFor(locker, 'released');
      locker.stdin.end();
      await released;
    },
  };
}

/** A logger that keeps what was logged at each level. */
function recordingLogger(): CacheLogger & { logged: Record<'debug' | 'info' | 'warn' | 'error', string[]> } {
  const logged = { debug: [] as string[], info: [] as string[], warn: [] as string[], error: [] as string[] };
  return {
    logged,
    debug: (_context, message) => logged.debug.push(String(message)),
    info: (_context, message) => logged.info.push(String(message)),
    warn: (_context, message) => logged.warn.push(String(message)),
    error: (_context, message) => logged.error.push(String(message)),
  };
}

describe('while another process holds the write lock', () => {
  it('get() of an existing entry answers without waiting busyTimeoutMs; the access update is skipped quietly', async () => {
    const path = tempDbPath();
    const logger = recordingLogger();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000, logger });
    backend.set('k', createEntry('v', { ttl: null }));
    const lock = await lockInAnotherProcess(path);
    try {
      const started = performance.now();
      const entry = backend.get('k');
      backend.recordCounters({ hits: 1 });
      expect(backend.has('k')).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(entry?.value).toBe('v');
      expect(logger.logged.warn).toEqual([]);
      expect(logger.logged.error).toEqual([]);
      expect(logger.logged.debug.join('\n')).toMatch(/touch skipped/);
    } finally {
      await lock.release();
    }
    // The skipped access update was not a write that matters: the next hit updates again.
    expect(backend.get('k')?.accessCount).toBe(1);
    backend.close();
  });

  it('ResponseCache hits, misses and getStats() answer without waiting busyTimeoutMs, and the hits it counted reach the file after close()', async () => {
    const path = tempDbPath();
    const cache = createSqliteCache<string>({ path, busyTimeoutMs: 5_000, defaultTtl: null });
    await cache.set('k', 'v');
    const lock = await lockInAnotherProcess(path);
    const started = performance.now();
    try {
      expect(await cache.get('k')).toBe('v');
      expect(await cache.get('k')).toBe('v');
      expect(await cache.get('absent')).toBeUndefined();
      // stats cannot purge under the lock: it reads instead of waiting. This process's counters include the deltas not yet written.
      const stats = await cache.getStats();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(stats.backend).toMatchObject({ entries: 1 });
      expect(stats.shared).toMatchObject({ hits: 2, misses: 1, sets: 1, errors: 0 });
      expect(stats.metrics.errors).toBe(0);
    } finally {
      await lock.release();
    }
    await cache.close();

    const fresh = new SqliteBackend({ path });
    expect(await fresh.readCounters()).toMatchObject({ hits: 2, misses: 1, sets: 1, errors: 0 });
    fresh.close();
  });

  it('counters recorded during the lock are written by the retry timer once it is released, without close()', async () => {
    const path = tempDbPath();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000 });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 1, savedTokens: 10 });
      backend.recordCounters({ hits: 1, misses: 1 });
    } finally {
      await lock.release();
    }
    const other = new SqliteBackend({ path });
    const deadline = Date.now() + 5_000;
    while ((await other.readCounters()).hits < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await other.readCounters()).toMatchObject({ hits: 2, misses: 1, savedTokens: 10 });
    // Written once: closing adds nothing more.
    backend.close();
    expect(await other.readCounters()).toMatchObject({ hits: 2, misses: 1, savedTokens: 10 });
    other.close();
  });

  it('close() waits up to busyTimeoutMs for pending counters, then drops them with a warning (never throws)', async () => {
    const path = tempDbPath();
    const logger = recordingLogger();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 200, logger });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 1 });
      const started = performance.now();
      expect(() => backend.close()).not.toThrow();
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(logger.logged.warn.join('\n')).toMatch(/counters not recorded/);
    } finally {
      await lock.release();
    }
    const fresh = new SqliteBackend({ path });
    expect((await fresh.readCounters()).hits).toBe(0);
    fresh.close();
  });

  it('writes that matter still wait busyTimeoutMs, then fail with BackendError', async () => {
    const path = tempDbPath();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 200 });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 1 }); // a best-effort write first: its short wait must not stick
      const started = performance.now();
      expect(() => backend.set('k', createEntry('v'))).toThrow(BackendError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(() => backend.clear()).toThrow(BackendError);
    } finally {
      await lock.release();
    }
    backend.set('k', createEntry('v'));
    expect(backend.get('k')?.value).toBe('v');
    backend.close();
  });

  it('resetCounters() drops the deltas still pending', async () => {
    const path = tempDbPath();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000 });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 3 });
      expect((await backend.readCounters()).hits).toBe(3);
    } finally {
      await lock.release();
    }
    backend.resetCounters();
    expect((await backend.readCounters()).hits).toBe(0);
    backend.close();
    const fresh = new SqliteBackend({ path });
    expect((await fresh.readCounters()).hits).toBe(0);
    fresh.close();
  });
});
