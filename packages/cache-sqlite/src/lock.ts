import type Database from 'better-sqlite3';

/**
 * Longest wait, in ms, of the best-effort writes on the read path for another process's write lock:
 * the access-time update of a hit, removing an expired or corrupt row, flushing counters. better-sqlite3
 * is synchronous, so any wait here blocks the whole event loop; a best-effort write that cannot get the
 * lock this quickly is skipped (access updates, removals) or retried later (counters).
 */
export const BEST_EFFORT_BUSY_TIMEOUT_MS = 5;

/**
 * Longest wait, in ms, of close()'s last counter flush for another process's write lock. Counters
 * must never hold up a process's exit (a hit at the command line would otherwise wait busyTimeoutMs);
 * counts still unwritten after it are dropped and reported by close().
 */
export const CLOSE_FLUSH_BUSY_TIMEOUT_MS = 50;

/** True for SQLite's "another connection holds the lock" errors (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** True for failures that mean "this file or its directory cannot be written" (not "is locked"). */
export function isReadOnlyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
  );
}

/**
 * Runs work with the connection's busy timeout lowered to busyMs (the setting is per connection, and
 * calls are synchronous, so nothing else runs meanwhile), then restores normalMs. Not a prepared
 * statement: SQLite applies `PRAGMA busy_timeout = N` when the statement is compiled, not when it is run.
 */
export function withBusyTimeout<T>(db: Database.Database, busyMs: number, normalMs: number, work: () => T): T {
  if (normalMs <= busyMs) return work();
  db.pragma(`busy_timeout = ${busyMs}`);
  try {
    return work();
  } finally {
    db.pragma(`busy_timeout = ${normalMs}`);
  }
}
