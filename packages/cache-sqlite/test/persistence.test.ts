import { createEntry } from '@tinyllm/cache-core';
import { test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { dbPath } from './helpers.js';

describe('persistence', () => {
  test('keeps entries, metadata and counters across instances', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const first = new SqliteBackend({ path, namespace: 'app' });
    const entry = createEntry({ response: 'hi', done: true }, { ttl: null, model: 'llama3:latest' });
    first.set('k1', entry);
    first.set('k2', createEntry('two', { ttl: 60 }));
    first.get('k1');
    first.recordCounters({ hits: 3, misses: 2, sets: 2, errors: 1, savedDurationNs: 5e9, savedTokens: 40 });
    first.close();

    const second = new SqliteBackend({ path, namespace: 'app' });
    const got = second.get('k1');
    expect(got?.value).toEqual({ response: 'hi', done: true });
    expect(got?.model).toBe('llama3:latest');
    expect(got?.createdAt).toBe(entry.createdAt);
    expect(got?.accessCount).toBe(2);
    expect(second.get('k2')?.value).toBe('two');
    expect(await second.readCounters()).toEqual({
      hits: 3,
      misses: 2,
      sets: 2,
      errors: 1,
      evictions: 0,
      savedDurationNs: 5e9,
      savedTokens: 40,
      byModel: {},
      stale: 0,
    });
    expect(second.stats()).toMatchObject({ entries: 2, evictions: 0, oldestCreatedAt: entry.createdAt });
    second.resetCounters();
    expect((await second.readCounters()).hits).toBe(0);
    second.close();
  });

  test('a ResponseCache in a new instance sees the hits of an earlier one', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const a = createSqliteCache<string>({ path });
    await a.set('k', 'v');
    expect(await a.get('k')).toBe('v');
    expect(await a.get('absent')).toBeUndefined();
    await a.close();

    const b = createSqliteCache<string>({ path });
    const stats = await b.getStats();
    expect(stats.metrics.hits).toBe(0);
    expect(stats.shared).toMatchObject({ hits: 1, misses: 1, sets: 1, errors: 0 });
    expect(stats.backend).toMatchObject({ entries: 1 });
    await b.close();
  });

  test('writes a WAL-mode file with its schema version', ({ tempDir }) => {
    const path = dbPath(tempDir);
    new SqliteBackend({ path }).close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  test('counters and entries of one namespace stay out of another', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const a = new SqliteBackend({ path, namespace: 'a' });
    const b = new SqliteBackend({ path, namespace: 'b' });
    a.set('k', createEntry(1));
    a.recordCounters({ hits: 5 });
    expect((await b.readCounters()).hits).toBe(0);
    expect(b.stats().entries).toBe(0);
    a.resetCounters();
    b.recordCounters({ hits: 1 });
    expect((await a.readCounters()).hits).toBe(0);
    a.close();
    b.close();
  });
});
