import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError, createEntry, InvalidOptionError } from '@tinyllm/cache-core';
import { test } from '@tinyllm/test-utils';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { createSqliteCache, SqliteBackend, type SqliteBackendOptions } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/schema.js';
import { dbPath } from './helpers.js';

const openError = (options: SqliteBackendOptions): unknown => {
  try {
    new SqliteBackend(options).close();
  } catch (error) {
    return error;
  }
  throw new Error('expected the backend to throw');
};

describe('options', () => {
  test.for([
    ['maxEntries', 0],
    ['maxEntries', -5],
    ['maxEntries', Number.NaN],
    ['maxEntries', Number.POSITIVE_INFINITY],
    ['maxEntries', 1.5],
    ['maxEntries', '10'],
    ['maxBytes', 0],
    ['maxBytes', Number.POSITIVE_INFINITY],
    ['busyTimeoutMs', -1],
    ['busyTimeoutMs', Number.NaN],
    ['path', 42],
    ['path', ''],
    ['namespace', ''],
    ['logger', { info: () => {} }],
  ] as Array<[string, unknown]>)('%s = %s is an InvalidOptionError naming the option', ([option, value], { tempDir }) => {
    const error = openError({ path: dbPath(tempDir), [option]: value } as SqliteBackendOptions);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(option);
  });

  test('createSqliteCache validates the ResponseCache options too, and closes the backend', ({ tempDir }) => {
    expect(() => createSqliteCache({ path: dbPath(tempDir), defaultTtl: -1 })).toThrow(InvalidOptionError);
    expect(() => createSqliteCache({ path: dbPath(tempDir), maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe('files that cannot be used', () => {
  test('a path under a regular file is a BackendError naming the path, with the cause', ({ tempDir }) => {
    const dir = tempDir;
    writeFileSync(join(dir, 'file'), 'x');
    const path = join(dir, 'file', 'cache.sqlite');
    const error = openError({ path });
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as BackendError).operation).toBe('open');
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  test('a directory as path is a BackendError naming the path', ({ tempDir }) => {
    const path = join(tempDir, 'a-directory');
    mkdirSync(path);
    const error = openError({ path });
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeDefined();
  });

  test('a file that is not SQLite is a BackendError naming the path', ({ tempDir }) => {
    const path = dbPath(tempDir);
    writeFileSync(path, 'this is not a database, just some text that is long enough to have a header'.repeat(20));
    const error = openError({ path });
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(path);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('SQLITE_NOTADB');
  });

  test("another application's SQLite file is refused, untouched", ({ tempDir }) => {
    const path = dbPath(tempDir);
    const raw = new Database(path);
    raw.exec('CREATE TABLE notes (body TEXT)');
    raw.close();
    const error = openError({ path });
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/another application/);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(['notes']);
    check.close();
  });

  test('a file with a newer schema version is refused with a clear message', ({ tempDir }) => {
    const path = dbPath(tempDir);
    new SqliteBackend({ path }).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const error = openError({ path });
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*upgrade`));
  });
});

describe('lock contention', () => {
  test('reads go on while another connection holds the write lock; writes fail after busyTimeoutMs with BackendError', ({ tempDir }) => {
    const path = dbPath(tempDir);
    const backend = new SqliteBackend({ path, busyTimeoutMs: 100 });
    backend.set('k', createEntry('v'));
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(backend.get('k')?.value).toBe('v'); // the access-time update fails quietly
      const started = Date.now();
      let error: unknown;
      try {
        backend.set('k2', createEntry('w'));
      } catch (caught) {
        error = caught;
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(BackendError.isInstance(error)).toBe(true);
      expect((error as BackendError).operation).toBe('set');
      expect((error as Error).message).toContain(path);
      expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^SQLITE_BUSY/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    backend.set('k2', createEntry('w'));
    expect(backend.get('k2')?.value).toBe('w');
    backend.close();
  });
});
