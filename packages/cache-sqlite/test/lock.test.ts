import { BackendError, createEntry, ResponseCache } from '@tinyllm/cache-core';
import { recordingLogger, test, waitFor } from '@tinyllm/test-utils';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { CLOSE_FLUSH_BUSY_TIMEOUT_MS } from '../src/lock.js';
import { dbPath, lockInAnotherProcess } from './helpers.js';

describe('while another process holds the write lock', () => {
  test('get() of an existing entry answers without waiting busyTimeoutMs; the access update is skipped quietly', async ({ tempDir }) => {
    const path = dbPath(tempDir);
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
      expect(logger.messages('warn')).toEqual([]);
      expect(logger.messages('error')).toEqual([]);
      expect(logger.messages('debug').join('\n')).toMatch(/touch skipped/);
    } finally {
      await lock.release();
    }
    // The skipped access update was not a write that matters: the next hit updates again.
    expect(backend.get('k')?.accessCount).toBe(1);
    backend.close();
  });

  test('ResponseCache hits, misses and getStats() answer without waiting busyTimeoutMs, and the hits it counted reach the file after close()', async ({
    tempDir,
  }) => {
    const path = dbPath(tempDir);
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

  test('counters recorded during the lock are written by the retry timer once it is released, without close()', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000 });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 1, savedTokens: 10 });
      backend.recordCounters({ hits: 1, misses: 1 });
    } finally {
      await lock.release();
    }
    const other = new SqliteBackend({ path });
    await waitFor(async () => (await other.readCounters()).hits >= 2);
    expect(await other.readCounters()).toMatchObject({ hits: 2, misses: 1, savedTokens: 10 });
    // Written once: closing adds nothing more.
    backend.close();
    expect(await other.readCounters()).toMatchObject({ hits: 2, misses: 1, savedTokens: 10 });
    other.close();
  });

  test('close() gives up on the counters after a short wait, not busyTimeoutMs, and reports what it dropped (never throws)', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const logger = recordingLogger();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000, logger });
    const lock = await lockInAnotherProcess(path);
    try {
      backend.recordCounters({ hits: 1, savedTokens: 7 });
      const started = performance.now();
      expect(() => backend.close()).not.toThrow();
      // Bounded by CLOSE_FLUSH_BUSY_TIMEOUT_MS, not by the 5 s busyTimeoutMs (a wide margin for a loaded machine).
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(backend.droppedCounters).toMatchObject({ hits: 1, savedTokens: 7, misses: 0 });
      expect(logger.messages('warn').join('\n')).toMatch(
        new RegExp(`locked by another process for ${CLOSE_FLUSH_BUSY_TIMEOUT_MS} ms; this process's counts were not recorded`),
      );
    } finally {
      await lock.release();
    }
    const fresh = new SqliteBackend({ path });
    expect((await fresh.readCounters()).hits).toBe(0);
    fresh.close();
  });

  test('a hit at exit never waits busyTimeoutMs for the lock: the cache closes at once and says its hit was not counted', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const writer = createSqliteCache<string>({ path, defaultTtl: null });
    await writer.set('k', 'answer');
    await writer.close();
    const backend = new SqliteBackend({ path, busyTimeoutMs: 5_000 });
    const cache = new ResponseCache<string>({ backend });
    const lock = await lockInAnotherProcess(path);
    try {
      const started = performance.now();
      expect(await cache.get('k')).toBe('answer');
      await cache.close();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(backend.droppedCounters).toMatchObject({ hits: 1 });
    } finally {
      await lock.release();
    }
  });

  test('flushCounters() writes the counts kept while the file was locked, waiting for the lock; false while it stays locked', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, busyTimeoutMs: 200 });
    const lock = await lockInAnotherProcess(path);
    backend.recordCounters({ hits: 3 });
    expect(backend.flushCounters()).toBe(false); // still locked after busyTimeoutMs: kept, not lost
    await lock.release();
    expect(backend.flushCounters()).toBe(true);
    backend.close();
    expect(backend.droppedCounters).toBeUndefined();
    const fresh = new SqliteBackend({ path });
    expect((await fresh.readCounters()).hits).toBe(3);
    fresh.close();
  });

  test('counts that reach the file before close() are not reported as dropped', async ({ tempDir }) => {
    const backend = new SqliteBackend({ path: dbPath(tempDir) });
    backend.recordCounters({ hits: 2 });
    backend.close();
    expect(backend.droppedCounters).toBeUndefined();
  });

  test('writes that matter still wait busyTimeoutMs, then fail with BackendError', async ({ tempDir }) => {
    const path = dbPath(tempDir);
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

  test('resetCounters() drops the deltas still pending', async ({ tempDir }) => {
    const path = dbPath(tempDir);
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
