import {
  type BackendCapabilities,
  BackendClosedError,
  BackendError,
  type BackendStats,
  type CacheBackend,
  type CacheEntry,
  type CacheLogger,
  decodeEntry,
  encodeEntry,
  keyForLog,
  type SharedCounters,
  silentLogger,
  TinyLLMError,
} from '@tinyllm/cache-core';
import type Database from 'better-sqlite3';
import { defaultCachePath } from './default-path.js';
import { isBusyError, openDatabase } from './open-database.js';
import { resolveSqliteOptions, type SqliteBackendOptions } from './options.js';

/** The counters a SqliteBackend keeps in the file for its namespace (SharedCounters plus evictions). */
export interface SqliteCounters extends SharedCounters {
  /** Entries evicted to respect maxEntries / maxBytes, by every process on the file. */
  evictions: number;
  /** Upstream time saved by hits, in ns. */
  savedDurationNs: number;
  /** Tokens saved by hits. */
  savedTokens: number;
}

/** Stats of one namespace; every field is known for SQLite. */
export interface SqliteBackendStats extends BackendStats {
  /** Unexpired entries stored. */
  entries: number;
  /** Bytes of the stored (encoded) entries. */
  bytes: number;
  /** Evictions counted in the file (every process, since the last resetCounters()). */
  evictions: number;
  /** Creation time of the oldest entry (ms since the epoch), null when empty. */
  oldestCreatedAt: number | null;
  /** Creation time of the newest entry (ms since the epoch), null when empty. */
  newestCreatedAt: number | null;
}

interface EntryRow {
  value: string;
  expires_at: number | null;
  access_count: number;
  access_seq: number;
}

interface CounterRow {
  hits: number;
  misses: number;
  sets: number;
  errors: number;
  evictions: number;
  saved_duration_ns: number;
  saved_tokens: number;
}

const SQLITE_CAPABILITIES: BackendCapabilities = Object.freeze({ evicts: true, persistent: true, shared: true, network: false });

const COUNTER_COLUMNS = ['hits', 'misses', 'sets', 'errors', 'evictions', 'saved_duration_ns', 'saved_tokens'] as const;

/** The parameters of one counters UPSERT (this namespace's deltas; evictions are counted inside set's transaction). */
type CounterDelta = { ns: string } & Record<(typeof COUNTER_COLUMNS)[number], number>;

/**
 * Longest wait, in ms, of the best-effort writes on the read path for another process's write lock:
 * the access-time update of a hit, removing an expired or corrupt row, flushing counters. better-sqlite3
 * is synchronous, so any wait here blocks the whole event loop; a best-effort write that cannot get the
 * lock this quickly is skipped (access updates, removals) or retried later (counters).
 */
export const BEST_EFFORT_BUSY_TIMEOUT_MS = 5;
/** First delay before retrying a counter flush that found the file locked, in ms; doubles up to COUNTER_RETRY_MAX_MS. */
const COUNTER_RETRY_MIN_MS = 50;
/** Longest delay between counter flush retries, in ms. */
const COUNTER_RETRY_MAX_MS = 1_000;

function prepareStatements(db: Database.Database) {
  const nextSeq = '(SELECT coalesce(max(access_seq), 0) + 1 FROM entries WHERE namespace = @ns)';
  return {
    select: db.prepare('SELECT value, expires_at, access_count, access_seq FROM entries WHERE namespace = ? AND key = ?'),
    selectExpiry: db.prepare('SELECT expires_at FROM entries WHERE namespace = ? AND key = ?'),
    touch: db.prepare(`UPDATE entries SET last_access = @now, access_count = access_count + 1, access_seq = ${nextSeq} WHERE namespace = @ns AND key = @key`),
    upsert: db.prepare(
      `INSERT INTO entries (namespace, key, value, created_at, expires_at, last_access, access_count, access_seq, size_bytes)
       VALUES (@ns, @key, @value, @createdAt, @expiresAt, @lastAccess, @accessCount, ${nextSeq}, @size)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at,
         expires_at = excluded.expires_at, last_access = excluded.last_access, access_count = excluded.access_count,
         access_seq = excluded.access_seq, size_bytes = excluded.size_bytes`,
    ),
    deleteKey: db.prepare('DELETE FROM entries WHERE namespace = ? AND key = ? RETURNING expires_at'),
    deleteIfExpired: db.prepare('DELETE FROM entries WHERE namespace = ? AND key = ? AND expires_at IS NOT NULL AND expires_at <= ?'),
    deleteIfUnchanged: db.prepare('DELETE FROM entries WHERE namespace = ? AND key = ? AND access_seq = ?'),
    purgeExpired: db.prepare('DELETE FROM entries WHERE namespace = ? AND expires_at IS NOT NULL AND expires_at <= ?'),
    deleteNamespace: db.prepare('DELETE FROM entries WHERE namespace = ?'),
    usage: db.prepare('SELECT entry_count, byte_count FROM usage WHERE namespace = ?'),
    lruVictims: db.prepare('SELECT key, size_bytes FROM entries WHERE namespace = ? AND key <> ? ORDER BY access_seq'),
    aggregate: db.prepare(
      'SELECT count(*) AS entries, total(size_bytes) AS bytes, min(created_at) AS oldest, max(created_at) AS newest FROM entries WHERE namespace = ?',
    ),
    aggregateUnexpired: db.prepare(
      `SELECT count(*) AS entries, total(size_bytes) AS bytes, min(created_at) AS oldest, max(created_at) AS newest FROM entries
       WHERE namespace = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    repairUsage: db.prepare(
      'INSERT INTO usage (namespace, entry_count, byte_count) VALUES (?, ?, ?) ON CONFLICT (namespace) DO UPDATE SET entry_count = excluded.entry_count, byte_count = excluded.byte_count',
    ),
    addCounters: db.prepare(
      `INSERT INTO counters (namespace, ${COUNTER_COLUMNS.join(', ')}) VALUES (@ns, ${COUNTER_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (namespace) DO UPDATE SET ${COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
    ),
    readCounters: db.prepare(`SELECT ${COUNTER_COLUMNS.join(', ')} FROM counters WHERE namespace = ?`),
    resetCounters: db.prepare(`UPDATE counters SET ${COUNTER_COLUMNS.map((c) => `${c} = 0`).join(', ')} WHERE namespace = ?`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** A pending delta as SharedCounters, for logs. */
function countersOf(delta: CounterDelta): SharedCounters {
  return {
    hits: delta.hits,
    misses: delta.misses,
    sets: delta.sets,
    errors: delta.errors,
    savedDurationNs: delta.saved_duration_ns,
    savedTokens: delta.saved_tokens,
  };
}

/**
 * A persistent cache backend on one SQLite file (better-sqlite3), shared safely by many processes:
 * WAL journal, a busy timeout, IMMEDIATE transactions for multi-statement writes. Entries are scoped
 * to `namespace`; each namespace is bounded by maxEntries and maxBytes with LRU eviction, and keeps
 * its hit/miss/set/error/eviction counters in the file.
 *
 * Every call is synchronous, so a wait for another process's write lock blocks the event loop. Reads
 * (get, has, readCounters, stats) never wait for it (WAL); their best-effort writes (the access update
 * of a hit, counters, stats' purge) wait at most BEST_EFFORT_BUSY_TIMEOUT_MS. Writes that matter (set,
 * delete, clear, resetCounters, the final counter flush of close) wait up to busyTimeoutMs.
 */
export class SqliteBackend implements CacheBackend {
  /** Backend name used in logs and errors. */
  readonly name = 'sqlite';
  /** Persistent, shared between processes, evicts by entries and bytes. */
  readonly capabilities: BackendCapabilities = SQLITE_CAPABILITIES;
  /** The database file in use. */
  readonly path: string;
  /** The namespace this backend reads and writes. */
  readonly namespace: string;
  /** Entry bound of the namespace. */
  readonly maxEntries: number;
  /** Byte bound of the namespace (encoded entries). */
  readonly maxBytes: number;
  /** Lock wait before a write that matters (set, delete, clear, resetCounters) fails with BackendError, in ms. */
  readonly busyTimeoutMs: number;

  private db: Database.Database | undefined;
  private readonly statements: Statements;
  private readonly logger: CacheLogger;
  private readonly evictionListeners: Array<(key: string) => void> = [];
  private readonly writeEntry: (key: string, encoded: string, size: number, entry: CacheEntry) => string[];
  private readonly clearNamespace: () => number;
  private readonly collectStats: () => SqliteBackendStats;
  /** stats() without purging or repairing: one read transaction (WAL: needs no write lock). */
  private readonly readStats: () => SqliteBackendStats;
  /** Counter deltas recorded but not yet in the file (the file was locked by another process). */
  private pendingCounters: CounterDelta | undefined;
  /** The unref'd timer of the next counter flush attempt, while counters are pending. */
  private counterRetry: ReturnType<typeof setTimeout> | undefined;
  private counterRetryMs = COUNTER_RETRY_MIN_MS;

  /** Opens (creating when needed) the file; throws InvalidOptionError for bad options, BackendError when the file cannot be opened. */
  constructor(options: SqliteBackendOptions = {}) {
    const resolved = resolveSqliteOptions(options);
    this.path = resolved.path ?? defaultCachePath();
    this.namespace = resolved.namespace;
    this.maxEntries = resolved.maxEntries;
    this.maxBytes = resolved.maxBytes;
    this.busyTimeoutMs = resolved.busyTimeoutMs;
    this.logger = resolved.logger ?? silentLogger;
    const db = openDatabase(this.path, this.busyTimeoutMs);
    try {
      this.statements = prepareStatements(db);
    } catch (cause) {
      db.close();
      throw new BackendError('sqlite', 'open', `cannot prepare statements on ${this.path}: ${(cause as Error).message}`, { cause });
    }
    this.db = db;
    const s = this.statements;
    const ns = this.namespace;

    this.writeEntry = db
      .transaction((key: string, encoded: string, size: number, entry: CacheEntry): string[] => {
        s.upsert.run({
          ns,
          key,
          value: encoded,
          createdAt: entry.createdAt,
          expiresAt: entry.expiresAt,
          lastAccess: entry.lastAccess,
          accessCount: entry.accessCount,
          size,
        });
        return this.evictOverflow(key);
      })
      .immediate.bind(null);

    this.clearNamespace = db
      .transaction((): number => {
        s.purgeExpired.run(ns, Date.now());
        return s.deleteNamespace.run(ns).changes;
      })
      .immediate.bind(null);

    this.collectStats = db
      .transaction((): SqliteBackendStats => {
        s.purgeExpired.run(ns, Date.now());
        const row = s.aggregate.get(ns) as { entries: number; bytes: number; oldest: number | null; newest: number | null };
        // Self-healing: the trigger-kept usage row always matches the table after stats().
        s.repairUsage.run(ns, row.entries, row.bytes);
        const counters = s.readCounters.get(ns) as CounterRow | undefined;
        return {
          entries: row.entries,
          bytes: row.bytes,
          evictions: counters?.evictions ?? 0,
          oldestCreatedAt: row.oldest,
          newestCreatedAt: row.newest,
        };
      })
      .immediate.bind(null);

    this.readStats = db
      .transaction((): SqliteBackendStats => {
        const row = s.aggregateUnexpired.get(ns, Date.now()) as { entries: number; bytes: number; oldest: number | null; newest: number | null };
        const counters = s.readCounters.get(ns) as CounterRow | undefined;
        return { entries: row.entries, bytes: row.bytes, evictions: counters?.evictions ?? 0, oldestCreatedAt: row.oldest, newestCreatedAt: row.newest };
      })
      .deferred.bind(null);
  }

  /**
   * The unexpired entry under key (its accessCount and lastAccess updated), or undefined; a corrupt row is
   * removed and throws CacheDecodeError. Never waits for another process's write lock: the read needs none
   * (WAL), and the access update (or removal of an expired / corrupt row) is skipped when the lock is not
   * free within BEST_EFFORT_BUSY_TIMEOUT_MS.
   */
  get(key: string): CacheEntry | undefined {
    const s = this.open('get');
    const now = Date.now();
    const row = this.run('get', () => s.select.get(this.namespace, key) as EntryRow | undefined);
    if (row === undefined) return undefined;
    if (row.expires_at !== null && row.expires_at <= now) {
      this.bestEffort('delete expired', key, () => s.deleteIfExpired.run(this.namespace, key, now));
      return undefined;
    }
    let entry: CacheEntry;
    try {
      entry = decodeEntry(row.value);
    } catch (error) {
      // Drop the bad row (unless another writer replaced it meanwhile), so the next get is a clean miss.
      this.bestEffort('delete corrupt', key, () => s.deleteIfUnchanged.run(this.namespace, key, row.access_seq));
      throw error;
    }
    this.bestEffort('touch', key, () => s.touch.run({ now, ns: this.namespace, key }));
    entry.accessCount = row.access_count + 1;
    entry.lastAccess = now;
    return entry;
  }

  /** Stores the entry (UPSERT) and evicts least recently used entries beyond the bounds; an elapsed expiry or an entry larger than maxBytes stores nothing and removes the old value. */
  set(key: string, entry: CacheEntry): void {
    const s = this.open('set');
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      this.run('set', () => s.deleteKey.run(this.namespace, key));
      return;
    }
    const encoded = encodeEntry(entry);
    const size = Buffer.byteLength(encoded, 'utf8');
    if (size > this.maxBytes) {
      this.run('set', () => s.deleteKey.run(this.namespace, key));
      this.logger.warn({ backend: this.name, key: keyForLog(key), sizeBytes: size, maxBytes: this.maxBytes }, 'entry larger than maxBytes not stored');
      return;
    }
    const evicted = this.run('set', () => this.writeEntry(key, encoded, size, entry));
    if (evicted.length > 0) this.notifyEvictions(evicted);
  }

  /** Removes the entry; true when an unexpired one was there. */
  delete(key: string): boolean {
    const s = this.open('delete');
    const row = this.run('delete', () => s.deleteKey.get(this.namespace, key) as { expires_at: number | null } | undefined);
    return row !== undefined && (row.expires_at === null || row.expires_at > Date.now());
  }

  /** True when an unexpired entry is stored under key (does not count as an access). */
  has(key: string): boolean {
    const s = this.open('has');
    const row = this.run('has', () => s.selectExpiry.get(this.namespace, key) as { expires_at: number | null } | undefined);
    return row !== undefined && (row.expires_at === null || row.expires_at > Date.now());
  }

  /** Removes every entry of this namespace (other namespaces in the file stay); returns how many unexpired entries went. */
  clear(): number {
    this.open('clear');
    return this.run('clear', () => this.clearNamespace());
  }

  /**
   * Purges expired entries, then reports entries, bytes, evictions and the oldest/newest creation times of
   * this namespace. Never waits for another process's write lock: when it is not free within
   * BEST_EFFORT_BUSY_TIMEOUT_MS, the same figures are read without purging (expired entries left out).
   */
  stats(): SqliteBackendStats {
    this.open('stats');
    try {
      return this.withShortBusyTimeout(() => this.collectStats());
    } catch (error) {
      if (!isBusyError(error)) {
        return this.run('stats', () => {
          throw error;
        });
      }
      this.logger.debug({ backend: this.name, err: error }, 'sqlite: the file is locked by another process; stats read without purging expired entries');
    }
    return this.run('stats', () => this.readStats());
  }

  /**
   * Writes counters still pending (waiting up to busyTimeoutMs for another process's lock; past that they
   * are dropped with a warning), then closes the file; idempotent. Later calls throw BackendClosedError
   * (recordCounters is ignored).
   */
  close(): void {
    const db = this.db;
    if (db === undefined) return;
    this.flushCounters(false);
    this.cancelCounterRetry();
    this.db = undefined;
    try {
      db.close();
    } catch (cause) {
      throw new BackendError('sqlite', 'close', `${this.path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Calls listener with the key of each entry this instance evicts to respect maxEntries / maxBytes. */
  onEviction(listener: (key: string) => void): void {
    this.evictionListeners.push(listener);
  }

  /**
   * Adds to this namespace's counters in the file with one UPSERT, waiting at most BEST_EFFORT_BUSY_TIMEOUT_MS
   * for the write lock. While another process holds it, the deltas are summed in memory and written by an
   * unref'd retry timer, the next recordCounters after it, readCounters or close(). Failures are logged,
   * never thrown.
   */
  recordCounters(delta: Partial<SharedCounters>): void {
    const db = this.db;
    if (db === undefined) return;
    const params: CounterDelta = {
      ns: this.namespace,
      hits: delta.hits ?? 0,
      misses: delta.misses ?? 0,
      sets: delta.sets ?? 0,
      errors: delta.errors ?? 0,
      evictions: 0,
      saved_duration_ns: delta.savedDurationNs ?? 0,
      saved_tokens: delta.savedTokens ?? 0,
    };
    if (params.hits === 0 && params.misses === 0 && params.sets === 0 && params.errors === 0 && params.saved_duration_ns === 0 && params.saved_tokens === 0) {
      return;
    }
    const pending = this.pendingCounters;
    if (pending === undefined) {
      this.pendingCounters = params;
    } else {
      for (const column of COUNTER_COLUMNS) pending[column] += params[column];
    }
    // While a retry is scheduled the file was locked a moment ago: only add up, so a long lock costs
    // one short wait per retry rather than one per call.
    if (this.counterRetry === undefined) this.flushCounters(true);
  }

  /** Reads this namespace's counters from the file: the sums of every process since the last reset. */
  async readCounters(): Promise<SqliteCounters> {
    return this.readCountersSync();
  }

  /** Synchronous readCounters(), for command-line tools. Includes this instance's deltas not yet written (the file was locked). */
  readCountersSync(): SqliteCounters {
    const s = this.open('readCounters');
    this.flushCounters(true);
    const row = this.run('readCounters', () => s.readCounters.get(this.namespace) as CounterRow | undefined);
    const pending = this.pendingCounters;
    const sum = (column: (typeof COUNTER_COLUMNS)[number]): number => (row?.[column] ?? 0) + (pending?.[column] ?? 0);
    return {
      hits: sum('hits'),
      misses: sum('misses'),
      sets: sum('sets'),
      errors: sum('errors'),
      evictions: sum('evictions'),
      savedDurationNs: sum('saved_duration_ns'),
      savedTokens: sum('saved_tokens'),
    };
  }

  /** Sets this namespace's counters in the file (evictions included) back to zero, and drops this instance's pending deltas; waits up to busyTimeoutMs for the lock. */
  resetCounters(): void {
    const s = this.open('resetCounters');
    this.run('resetCounters', () => s.resetCounters.run(this.namespace));
    this.pendingCounters = undefined;
    this.cancelCounterRetry();
    this.counterRetryMs = COUNTER_RETRY_MIN_MS;
  }

  /** Runs inside the write transaction: drops expired rows, then least recently used ones, until the namespace fits its bounds. */
  private evictOverflow(keptKey: string): string[] {
    const s = this.statements;
    const ns = this.namespace;
    let usage = s.usage.get(ns) as { entry_count: number; byte_count: number } | undefined;
    if (usage === undefined || (usage.entry_count <= this.maxEntries && usage.byte_count <= this.maxBytes)) return [];
    if (s.purgeExpired.run(ns, Date.now()).changes > 0) {
      usage = s.usage.get(ns) as { entry_count: number; byte_count: number };
      if (usage.entry_count <= this.maxEntries && usage.byte_count <= this.maxBytes) return [];
    }
    let excessEntries = usage.entry_count - this.maxEntries;
    let excessBytes = usage.byte_count - this.maxBytes;
    const victims: string[] = [];
    // Collect first: better-sqlite3 allows no other statement while an iterator is open.
    for (const row of s.lruVictims.iterate(ns, keptKey) as IterableIterator<{ key: string; size_bytes: number }>) {
      victims.push(row.key);
      excessEntries -= 1;
      excessBytes -= row.size_bytes;
      if (excessEntries <= 0 && excessBytes <= 0) break;
    }
    for (const victim of victims) s.deleteKey.run(ns, victim);
    if (victims.length > 0) {
      s.addCounters.run({ ns, hits: 0, misses: 0, sets: 0, errors: 0, evictions: victims.length, saved_duration_ns: 0, saved_tokens: 0 });
    }
    return victims;
  }

  /** Tells the onEviction listeners (after the transaction committed); a throwing listener is logged. */
  private notifyEvictions(keys: string[]): void {
    this.logger.debug({ backend: this.name, evicted: keys.length }, 'sqlite: evicted least recently used entries');
    for (const key of keys) {
      for (const listener of this.evictionListeners) {
        try {
          listener(key);
        } catch (error) {
          this.logger.error({ backend: this.name, key: keyForLog(key), err: error }, 'sqlite: eviction listener threw');
        }
      }
    }
  }

  /** The prepared statements, or BackendClosedError after close(). */
  private open(operation: string): Statements {
    if (this.db === undefined) throw new BackendClosedError(this.name, operation);
    return this.statements;
  }

  /** Runs a driver call, turning driver errors into BackendError (with the SqliteError as cause). */
  private run<T>(operation: string, work: () => T): T {
    try {
      return work();
    } catch (cause) {
      if (TinyLLMError.isInstance(cause)) throw cause;
      const message = isBusyError(cause)
        ? `${this.path} is locked by another process (waited ${this.busyTimeoutMs} ms): ${(cause as Error).message}`
        : `${this.path}: ${(cause as Error).message}`;
      throw new BackendError(this.name, operation, message, { cause });
    }
  }

  /**
   * Housekeeping that must not fail or stall a read (touching, removing an expired or corrupt row): waits
   * at most BEST_EFFORT_BUSY_TIMEOUT_MS for the write lock; a busy file skips it (debug log), any other
   * failure is logged as a warning; neither reaches the caller.
   */
  private bestEffort(what: string, key: string, work: () => unknown): void {
    try {
      this.withShortBusyTimeout(work);
    } catch (error) {
      if (isBusyError(error)) {
        this.logger.debug({ backend: this.name, key: keyForLog(key), err: error }, `sqlite: ${what} skipped, the file is locked by another process`);
      } else {
        this.logger.warn({ backend: this.name, key: keyForLog(key), err: error }, `sqlite: ${what} failed`);
      }
    }
  }

  /**
   * Runs work with the connection's busy timeout lowered to BEST_EFFORT_BUSY_TIMEOUT_MS (the setting is per
   * connection, and calls are synchronous, so nothing else runs meanwhile). Not a prepared statement: SQLite
   * applies `PRAGMA busy_timeout = N` when the statement is compiled, not when it is run.
   */
  private withShortBusyTimeout<T>(work: () => T): T {
    const db = this.db;
    if (db === undefined || this.busyTimeoutMs <= BEST_EFFORT_BUSY_TIMEOUT_MS) return work();
    db.pragma(`busy_timeout = ${BEST_EFFORT_BUSY_TIMEOUT_MS}`);
    try {
      return work();
    } finally {
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /**
   * Writes the pending counter deltas in one UPSERT. `quick` waits at most BEST_EFFORT_BUSY_TIMEOUT_MS
   * for the lock and, when the file stays locked, keeps the deltas and schedules a retry; otherwise it
   * waits up to busyTimeoutMs (close) and drops them with a warning when the lock never came. Any other
   * failure drops them with an error log (retrying would not help). True when nothing is pending after.
   */
  private flushCounters(quick: boolean): boolean {
    const pending = this.pendingCounters;
    if (pending === undefined) return true;
    if (this.db === undefined) return false;
    this.cancelCounterRetry();
    try {
      if (quick) this.withShortBusyTimeout(() => this.statements.addCounters.run(pending));
      else this.statements.addCounters.run(pending);
      this.pendingCounters = undefined;
      this.counterRetryMs = COUNTER_RETRY_MIN_MS;
      return true;
    } catch (error) {
      if (isBusyError(error) && quick) {
        this.logger.debug(
          { backend: this.name, retryInMs: this.counterRetryMs, err: error },
          'sqlite: the file is locked by another process; counters kept in memory, retrying later',
        );
        this.scheduleCounterRetry();
        return false;
      }
      this.pendingCounters = undefined;
      if (isBusyError(error)) {
        this.logger.warn(
          { backend: this.name, lost: countersOf(pending), err: error },
          `sqlite: the file stayed locked by another process for ${this.busyTimeoutMs} ms; counters not recorded`,
        );
      } else {
        this.logger.error({ backend: this.name, lost: countersOf(pending), err: error }, 'sqlite: recording counters failed');
      }
      return false;
    }
  }

  private scheduleCounterRetry(): void {
    const delay = this.counterRetryMs;
    this.counterRetryMs = Math.min(delay * 2, COUNTER_RETRY_MAX_MS);
    const timer = setTimeout(() => {
      this.counterRetry = undefined;
      this.flushCounters(true);
    }, delay);
    // A retry never keeps the process alive: close() flushes what is still pending.
    timer.unref();
    this.counterRetry = timer;
  }

  private cancelCounterRetry(): void {
    if (this.counterRetry === undefined) return;
    clearTimeout(this.counterRetry);
    this.counterRetry = undefined;
  }
}
