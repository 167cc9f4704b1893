import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@tinyllm/test-utils';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { bundleFixture, dbPath, runNode } from './helpers.js';

// root ignores file modes: the process that must not write then runs as nobody.
const NOBODY = 65534;
const asUser = process.getuid?.() === 0 ? NOBODY : undefined;

interface Seen {
  mode: string;
  readOnly: boolean;
  leases: boolean;
  hit: string | null;
  miss: string | null;
  stats: { backend: { entries: number } | undefined; shared: { hits: number; sets: number } | undefined };
  stored: boolean;
  computed: string;
  cleared: number;
  metrics: { hits: number; misses: number; errors: number };
  dropped: { hits: number } | null;
  logged: string[];
}

/** A cache file with one entry ("k") and some counters, in a directory of its own. */
async function seededCache(dir: string): Promise<string> {
  const path = dbPath(dir);
  const cache = createSqliteCache<string>({ path, defaultTtl: null });
  await cache.set('k', 'stored answer');
  await cache.get('k');
  await cache.close();
  return path;
}

/** Opens path in a separate process that cannot write it, and returns what that process saw. */
async function openWithoutWriteAccess(tempDir: string, path: string): Promise<Seen> {
  const script = join(tempDir, 'read-only.mjs');
  await bundleFixture('read-only.ts', script);
  chmodSync(script, 0o644);
  const result = await runNode(script, [path], asUser);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Seen;
}

describe('a cache file that cannot be written', () => {
  test('a read-only file: hits, stats and counters are read; writes fail open as counted errors', async ({ tempDir }) => {
    chmodSync(tempDir, 0o777); // the other user may create the -shm index beside the file, but not write the file
    const path = await seededCache(tempDir);
    chmodSync(path, 0o444);
    const seen = await openWithoutWriteAccess(tempDir, path);
    expect(seen).toMatchObject({ readOnly: true, leases: false, hit: 'stored answer', miss: null, stored: false, computed: 'computed', cleared: 0 });
    expect(seen.stats.backend).toMatchObject({ entries: 1 });
    expect(seen.stats.shared).toMatchObject({ hits: 2, sets: 1 });
    expect(seen.metrics).toMatchObject({ hits: 1, misses: 2 });
    expect(seen.metrics.errors).toBeGreaterThanOrEqual(3); // set, the background write of getOrSet, clear
    expect(seen.dropped).toMatchObject({ hits: 1 });
    expect(seen.logged.some((line) => line.startsWith('warn:') && line.includes('cannot be written; reading it only'))).toBe(true);
  });

  test('a read-only directory: the file is read from a snapshot, hits and stats still work', async ({ tempDir }) => {
    chmodSync(tempDir, 0o755);
    const dir = join(tempDir, 'store');
    const path = await seededCache(dir);
    chmodSync(path, 0o644);
    chmodSync(dir, 0o555);
    try {
      const seen = await openWithoutWriteAccess(tempDir, path);
      expect(seen).toMatchObject({ mode: 'snapshot', readOnly: true, leases: false, hit: 'stored answer', stored: false });
      expect(seen.stats.backend).toMatchObject({ entries: 1 });
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  test('a writable file opens read-write', ({ tempDir }) => {
    const backend = new SqliteBackend({ path: dbPath(tempDir) });
    expect(backend.mode).toBe('read-write');
    expect(backend.readOnly).toBe(false);
    backend.close();
  });

  test('a read-only file that is not a cache is still refused with a clear message', async ({ tempDir }) => {
    chmodSync(tempDir, 0o777);
    const path = dbPath(tempDir);
    writeFileSync(path, '');
    chmodSync(path, 0o444);
    const script = join(tempDir, 'read-only.mjs');
    await bundleFixture('read-only.ts', script);
    chmodSync(script, 0o644);
    const result = await runNode(script, [path], asUser);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/is read-only and holds no TinyLLM cache yet|cannot (open|read)/);
  });
});
