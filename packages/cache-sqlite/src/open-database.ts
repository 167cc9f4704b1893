import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BackendError, TinyLLMError } from '@tinyllm/cache-core';
import Database from 'better-sqlite3';
import { ensureSchema } from './schema.js';

/** True for SQLite's "another connection holds the lock" errors (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number): void => {
  Atomics.wait(sleeper, 0, 0, ms);
};

const isFilePath = (path: string): boolean => path !== ':memory:' && path !== '';

/**
 * Creates a directory and its missing parents, one level at a time, each tried once. Node's
 * recursive mkdir retries a parent that "exists" for as long as the child gives ENOENT, which on
 * procfs (`/proc/nope`) is forever; here any level that cannot be made ends the walk with its error.
 */
export function makeDirectory(directory: string): void {
  const missing: string[] = [];
  for (let current = resolve(directory); ; current = dirname(current)) {
    try {
      statSync(current);
      break;
    } catch {
      missing.push(current);
      if (dirname(current) === current) break;
    }
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Another process made it meanwhile.
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * Opens (creating when missing) the database file and its directory, switches it to WAL with
 * synchronous=NORMAL, a WAL size limit and the busy timeout, and creates or checks the schema.
 * Retries while another process holds a lock during that setup (some lock waits, such as the
 * switch to WAL, skip SQLite's busy handler). Any failure is a BackendError naming the path, with
 * the driver's error as cause.
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  if (isFilePath(path)) {
    try {
      makeDirectory(dirname(path));
    } catch (cause) {
      throw new BackendError('sqlite', 'open', `cannot create the directory of ${path}: ${(cause as Error).message}`, { cause });
    }
  }
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (cause) {
    throw new BackendError('sqlite', 'open', `cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  const deadline = Date.now() + Math.max(busyTimeoutMs, 1_000);
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // After a checkpoint, truncate the WAL back to 64 MiB at most (1 MiB entries would otherwise leave it large).
      db.pragma('journal_size_limit = 67108864');
      ensureSchema(db, path);
      return db;
    } catch (cause) {
      if (isBusyError(cause) && Date.now() < deadline) {
        sleepSync(Math.min(5 * attempt, 50) + Math.random() * 10);
        continue;
      }
      db.close();
      if (TinyLLMError.isInstance(cause)) throw cause;
      const reason = isBusyError(cause)
        ? `${path} stayed locked by another process for ${Math.max(busyTimeoutMs, 1_000)} ms`
        : `cannot open ${path}: ${(cause as Error).message}`;
      throw new BackendError('sqlite', 'open', reason, { cause });
    }
  }
}
