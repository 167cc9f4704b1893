import { createEntry } from '@tinyllm/cache-core';
import { sleep, test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { SqliteBackend } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { dbPath } from './helpers.js';

const columns = (raw: Database.Database, table: string): string[] =>
  (raw.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

describe('schema version 2: stale-if-error', () => {
  test('a fresh file is created at the current version, with stale_until and the stale counter', ({ tempDir }) => {
    const path = dbPath(tempDir);
    new SqliteBackend({ path }).close();
    const raw = new Database(path, { readonly: true });
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(columns(raw, 'entries')).toContain('stale_until');
    expect(columns(raw, 'counters')).toContain('stale');
    raw.close();
  });

  test('a version 1 file is upgraded in place: its entries and counters stay readable', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const first = new SqliteBackend({ path, namespace: 'app' });
    first.set('old', createEntry('written by version 1', { ttl: 60 }));
    first.recordCounters({ hits: 4 });
    first.close();
    // Turn the file back into what version 1 wrote.
    const raw = new Database(path);
    raw.exec(
      'ALTER TABLE entries DROP COLUMN stale_until; ALTER TABLE counters DROP COLUMN stale; DROP TABLE leases; ALTER TABLE entries DROP COLUMN endpoint; ALTER TABLE entries DROP COLUMN model; ALTER TABLE entries DROP COLUMN value_bytes; DROP TABLE model_counters;',
    );
    raw.pragma('user_version = 1');
    raw.close();

    const upgraded = new SqliteBackend({ path, namespace: 'app' });
    expect(upgraded.get('old')?.value).toBe('written by version 1');
    expect(upgraded.readCountersSync()).toMatchObject({ hits: 4, stale: 0 });
    const kept = createEntry('kept', { ttl: 0.05, staleIfErrorTtl: 60 });
    upgraded.set('new', kept);
    upgraded.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT stale_until FROM entries WHERE key = 'new'").get()).toEqual({ stale_until: kept.staleUntil });
    check.close();
  });

  test('purging (stats, eviction) keeps rows within their stale window; stats count them as stale, not as entries', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, namespace: 'app', maxEntries: 3 });
    backend.set('kept', createEntry('kept', { ttl: 0.05, staleIfErrorTtl: 60 }));
    backend.set('dropped', createEntry('dropped', { ttl: 0.05 }));
    await sleep(80);
    expect(backend.get('kept')).toBeUndefined();
    expect(backend.stats()).toMatchObject({ entries: 0, stale: 1 });
    expect(backend.getStale('kept')?.value).toBe('kept');
    expect(backend.getStale('dropped')).toBeUndefined();
    // Eviction purges first: the stale row survives a purge but, as the least recently used, goes
    // before live entries when the bound is reached.
    for (const key of ['a', 'b', 'c']) backend.set(key, createEntry(key, { ttl: 60 }));
    expect(backend.getStale('kept')).toBeUndefined();
    expect(backend.stats()).toMatchObject({ entries: 3, stale: 0 });
    backend.close();
  });
});
