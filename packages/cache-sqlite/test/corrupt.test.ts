import { CacheDecodeError, createEntry } from '@tinyllm/cache-core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';
import { tempDbPath } from './helpers.js';

const corrupt = (path: string, key: string, value: string): void => {
  const raw = new Database(path);
  expect(raw.prepare('UPDATE entries SET value = ? WHERE key = ?').run(value, key).changes).toBe(1);
  raw.close();
};

describe('corrupt rows', () => {
  it('are a miss plus a counted error through ResponseCache, and the next set overwrites', async () => {
    const path = tempDbPath();
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

  it('make the backend throw CacheDecodeError once, then the row is gone', () => {
    const path = tempDbPath();
    const backend = new SqliteBackend({ path });
    backend.set('k', createEntry('v'));
    corrupt(path, 'k', 'not an entry at all');
    expect(() => backend.get('k')).toThrow(CacheDecodeError);
    expect(backend.get('k')).toBeUndefined();
    expect(backend.stats().entries).toBe(0);
    backend.close();
  });
});
