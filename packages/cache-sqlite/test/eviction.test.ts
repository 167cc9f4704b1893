import { createEntry } from '@tinyllm/cache-core';
import { sleep, test } from '@tinyllm/test-utils';
import { describe, expect } from 'vitest';
import { SqliteBackend } from '../src/index.js';
import { dbPath } from './helpers.js';

const bytesOf = (backend: SqliteBackend, key: string, value: unknown): number => {
  backend.set(key, createEntry(value, { ttl: null }));
  const bytes = backend.stats().bytes;
  backend.delete(key);
  return bytes;
};

describe('eviction', () => {
  test('evicts the least recently used entry beyond maxEntries, counts it and tells listeners', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, maxEntries: 3 });
    const evicted: string[] = [];
    backend.onEviction((key) => evicted.push(key));
    backend.set('a', createEntry('a'));
    backend.set('b', createEntry('b'));
    backend.set('c', createEntry('c'));
    expect(backend.get('a')?.value).toBe('a'); // a is now more recent than b and c
    backend.set('d', createEntry('d'));
    expect(evicted).toEqual(['b']);
    expect(backend.has('a')).toBe(true);
    expect(backend.has('b')).toBe(false);
    backend.set('e', createEntry('e'));
    expect(evicted).toEqual(['b', 'c']);
    expect(backend.stats()).toMatchObject({ entries: 3, evictions: 2 });
    expect((await backend.readCounters()).evictions).toBe(2);
    backend.close();

    const reopened = new SqliteBackend({ path });
    expect(reopened.stats().evictions).toBe(2);
    reopened.close();
  });

  test('evicts by bytes in LRU order and stays within maxBytes', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const probe = new SqliteBackend({ path, namespace: 'probe' });
    const value = 'x'.repeat(1000);
    const size = bytesOf(probe, 'probe', value);
    probe.close();

    const backend = new SqliteBackend({ path, maxBytes: size * 3 + size / 2 });
    for (const key of ['a', 'b', 'c']) backend.set(key, createEntry(value));
    backend.get('a');
    backend.set('d', createEntry(value));
    expect(['a', 'b', 'c', 'd'].filter((key) => backend.has(key))).toEqual(['a', 'c', 'd']);
    // One bigger entry pushes out the two least recently used.
    backend.set('big', createEntry('y'.repeat(1900)));
    expect(['a', 'c', 'd', 'big'].filter((key) => backend.has(key))).toEqual(['d', 'big']);
    const stats = backend.stats();
    expect(stats.bytes).toBeLessThanOrEqual(backend.maxBytes);
    expect(stats.evictions).toBe(3);
    backend.close();
  });

  test('refuses an entry larger than maxBytes (set returns false), and drops the old value', ({ tempDir }) => {
    const backend = new SqliteBackend({ path: dbPath(tempDir), maxBytes: 500 });
    backend.set('k', createEntry('small'));
    backend.set('other', createEntry('kept'));
    expect(backend.set('k', createEntry('z'.repeat(600)))).toBe(false);
    expect(backend.get('k')).toBeUndefined();
    expect(backend.get('other')?.value).toBe('kept');
    expect(backend.stats()).toMatchObject({ entries: 1, evictions: 0 });
    backend.close();
  });

  test('drops expired entries before evicting live ones, without counting them', async ({ tempDir }) => {
    const backend = new SqliteBackend({ path: dbPath(tempDir), maxEntries: 2 });
    const shortLived = createEntry('soon gone');
    shortLived.expiresAt = Date.now() + 50;
    backend.set('old', shortLived);
    backend.set('live', createEntry('live'));
    await sleep(80);
    backend.set('new', createEntry('new'));
    expect(backend.has('live')).toBe(true);
    expect(backend.has('new')).toBe(true);
    expect(backend.stats()).toMatchObject({ entries: 2, evictions: 0 });
    backend.close();
  });

  test('bounds each namespace on its own', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const a = new SqliteBackend({ path, namespace: 'a', maxEntries: 2 });
    const b = new SqliteBackend({ path, namespace: 'b', maxEntries: 2 });
    b.set('b1', createEntry(1));
    b.set('b2', createEntry(2));
    for (let i = 0; i < 5; i++) a.set(`a${i}`, createEntry(i));
    expect(a.stats()).toMatchObject({ entries: 2, evictions: 3 });
    expect(b.stats()).toMatchObject({ entries: 2, evictions: 0 });
    a.close();
    b.close();
  });
});
