import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BackendError, TinyLLMError } from '@tinyllm/cache-core';
import Database from 'better-sqlite3';
import { isBusyError, isReadOnlyError } from './lock.js';
import { checkSchema, ensureSchema } from './schema.js';

/** An open database and how it could be opened. */
export interface OpenedDatabase {
  /** The connection. */
  db: Database.Database;
  /**
   * How the file is used: `read-write`; `read-only` (the file or its directory cannot be written:
   * reads only); `snapshot` (read-only, and the directory cannot even hold the index SQLite needs to
   * read a WAL file in place: a copy of the file as last checkpointed, read from memory).
   */
  mode: 'read-write' | 'read-only' | 'snapshot';
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number): void => {
  Atomics.wait(sleeper, 0, 0, ms);
};

const isFilePath = (path: string): boolean => path !== ':memory:' && path !== '';

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** False when an existing file cannot be written in place: the file itself, or its directory (WAL needs its -wal and -shm files beside it). */
function canWrite(path: string): boolean {
  if (!writable(path)) return false;
  return writable(dirname(path)) || (writable(`${path}-wal`) && writable(`${path}-shm`));
}

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
 * Opens the cache file. A file that exists but cannot be written (a read-only file or directory) is
 * opened read-only, so hits and stats still work; anything else opens read-write, creating the file
 * and its directory when missing (see openWritable). Failures are BackendErrors naming the path.
 */
export function openDatabase(path: string, busyTimeoutMs: number): OpenedDatabase {
  if (isFilePath(path) && existsSync(path) && !canWrite(path)) return openReadOnly(path);
  try {
    return { db: openWritable(path, busyTimeoutMs), mode: 'read-write' };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (isFilePath(path) && existsSync(path) && isReadOnlyError(cause)) return openReadOnly(path);
    throw error;
  }
}

/**
 * Creates the directory and file when missing, switches the file to WAL with synchronous=NORMAL, a
 * WAL size limit and the busy timeout, and creates or checks the schema. Retries while another
 * process holds a lock during that setup (some lock waits, such as the switch to WAL, skip SQLite's
 * busy handler).
 */
function openWritable(path: string, busyTimeoutMs: number): Database.Database {
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

/**
 * Opens an existing cache file for reading only. SQLite reads a WAL file in place only when it can
 * create (or find) the -shm index beside it; in a read-only directory it cannot, so the file is read
 * into memory instead (the header marked as a rollback-journal file, which an in-memory copy must be).
 */
function openReadOnly(path: string): OpenedDatabase {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    checkSchema(db, path);
    return { db, mode: 'read-only' };
  } catch (cause) {
    db?.close();
    if (TinyLLMError.isInstance(cause)) throw cause;
    if (!isReadOnlyError(cause)) throw new BackendError('sqlite', 'open', `cannot open ${path} read-only: ${(cause as Error).message}`, { cause });
  }
  let image: Buffer;
  try {
    image = readFileSync(path);
  } catch (cause) {
    throw new BackendError('sqlite', 'open', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  // Bytes 18 and 19 of the header are the file format's write and read versions: 2 means WAL.
  if (image.length >= 100 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  try {
    db = new Database(image, { readonly: true });
    checkSchema(db, path);
    return { db, mode: 'snapshot' };
  } catch (cause) {
    db?.close();
    if (TinyLLMError.isInstance(cause)) throw cause;
    throw new BackendError('sqlite', 'open', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}
