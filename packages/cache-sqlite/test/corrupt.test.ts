import { CacheDecodeError, createEntry } from '@tinyllm/cache-core';
import { test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { dbPath } from './helpers.js';

const corrupt = (path: string, key: string, value: string): void => {
  const raw = new Database(path);
  expect(raw.prepare('UPDATE entries SET value = ? WHERE key = ?').run(value, key).changes).toBe(1);
  raw.close();
};

describe('corrupt rows', () => {
  test('are a miss plus a counted error through ResponseCache, and the next set overwrites', async ({ tempDir }) => {
    const path = dbPath(tempDir);
    const cache = createSqliteCache<{ response: string }>({ path });
    await cache.set('k', { response: 'fine' });
    corrupt(path, 'k', 'tlc1:[1,2,'); // truncated

    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 1, errors: 1 });
    expect((await cache.getStats()).shared).toMatchObject({ errors: 1, misses: 1 });

    await cache.set('k', { response: 'again' });
    expect(await cache.get('k')).toEqual({ response: 'again' });
    expect(cache.getMetrics()).toMatchObject({ hits: 1, errors: 1 });
    await cache.close();
  });

  test('make the backend throw CacheDecodeError once, then the row is gone', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path });
    backend.set('k', createEntry('v'));
    corrupt(path, 'k', 'not an entry at all');
    expect(() => backend.get('k')).toThrow(CacheDecodeError);
    expect(backend.get('k')).toBeUndefined();
    expect(backend.stats().entries).toBe(0);
    backend.close();
  });
});
