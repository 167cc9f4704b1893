import { createEntry, createResponseCache, type EntryInfo, encodeEntry, listEntries } from '@tinyllm/cache-core';
import { heapGrowthOf, test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { SqliteBackend } from '../src/index.js';
import { dbPath } from './helpers.js';

const ENTRIES = 100_000;

/** Writes count entries of ~1 KiB straight into the file in one transaction (the backend's set would take one transaction each). */
function bulkInsert(path: string, namespace: string, count: number): void {
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO entries (namespace, key, value, created_at, expires_at, last_access, access_count, access_seq, size_bytes, endpoint, model, value_bytes)
     VALUES (?, ?, ?, ?, NULL, ?, 0, ?, ?, 'generate', ?, ?)`,
  );
  const filler = 'x'.repeat(1000);
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const entry = createEntry({ response: `${i}${filler}` }, { model: i % 2 ? 'a:latest' : 'b:latest', endpoint: 'generate' });
      const encoded = encodeEntry(entry);
      insert.run(namespace, `key-${i}`, encoded, entry.createdAt, entry.lastAccess, i + 1, encoded.length, entry.model, entry.sizeBytes);
    }
  })();
  db.close();
}

describe('sqlite listing', () => {
  test(`lists ${ENTRIES.toLocaleString('en')} entries with flat memory`, async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, namespace: 'big', maxEntries: 1_000_000, maxBytes: 1024 ** 3 });
    bulkInsert(path, 'big', ENTRIES);
    const { count, maxGrowthBytes } = await heapGrowthOf(backend.list());
    expect(count).toBe(ENTRIES);
    // The store holds ~110 MB of values, and every listed record kept would be ~15 MB: a listing holds one page.
    expect(maxGrowthBytes).toBeLessThan(8 * 1024 * 1024);
    let a = 0;
    for await (const info of listEntries(backend, { model: 'a' })) if (info.model === 'a:latest') a++;
    expect(a).toBe(ENTRIES / 2);
    backend.close();
  });

  test('a version 1 file is upgraded in place: its entries keep their values and list with their model', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const old = new SqliteBackend({ path, namespace: 'app' });
    old.set('k1', createEntry({ response: 'one' }, { model: 'llama3:latest' }));
    old.close();
    // Turn the file back into the version 1 layout.
    const raw = new Database(path);
    raw.exec(
      'ALTER TABLE entries DROP COLUMN endpoint; ALTER TABLE entries DROP COLUMN model; ALTER TABLE entries DROP COLUMN value_bytes; DROP TABLE model_counters; DROP TABLE leases; ALTER TABLE entries DROP COLUMN stale_until; ALTER TABLE counters DROP COLUMN stale',
    );
    raw.pragma('user_version = 1');
    raw.close();
    const upgraded = new SqliteBackend({ path, namespace: 'app' });
    const listed: EntryInfo[] = [];
    for await (const info of upgraded.list()) listed.push(info);
    expect(listed).toMatchObject([{ key: 'k1', model: 'llama3:latest', endpoint: null, sizeBytes: createEntry({ response: 'one' }).sizeBytes }]);
    expect(upgraded.get('k1')?.value).toEqual({ response: 'one' });
    upgraded.close();
  });

  test('per-model counters are kept in the file and seen by another instance', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const cache = createResponseCache<{ total_duration: number }>(
      { savingsOf: (value) => ({ durationNs: value.total_duration, tokens: 2 }) },
      () => new SqliteBackend({ path }),
    );
    await cache.resolve('k', () => ({ total_duration: 1000 }), { model: 'm1' });
    await cache.flush();
    await cache.resolve('k', () => ({ total_duration: 1 }), { model: 'm1' });
    await cache.resolve('k2', () => ({ total_duration: 5 }), { model: 'm2' });
    await cache.flush();
    const other = new SqliteBackend({ path });
    expect((await other.readCounters()).byModel).toEqual({
      m1: { hits: 1, misses: 1, savedDurationNs: 1000, savedTokens: 2 },
      m2: { hits: 0, misses: 1, savedDurationNs: 0, savedTokens: 0 },
    });
    expect(cache.getMetrics().byModel).toEqual((await other.readCounters()).byModel);
    other.resetCounters();
    expect((await other.readCounters()).byModel).toEqual({});
    other.close();
    await cache.close();
  });
});
