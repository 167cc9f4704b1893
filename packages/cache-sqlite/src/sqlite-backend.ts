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

/**
 * A persistent cache backend on one SQLite file (better-sqlite3), shared safely by many processes:
 * WAL journal, a busy timeout, IMMEDIATE transactions for multi-statement writes. Entries are scoped
 * to `namespace`; each namespace is bounded by maxEntries and maxBytes with LRU eviction, and keeps
 * its hit/miss/set/error/eviction counters in the file. Every call is synchronous.
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
  /** Lock wait before an operation fails with BackendError, in ms. */
  readonly busyTimeoutMs: number;

  private db: Database.Database | undefined;
  private readonly statements: Statements;
  private readonly logger: CacheLogger;
  private readonly evictionListeners: Array<(key: string) => void> = [];
  private readonly writeEntry: (key: string, encoded: string, size: number, entry: CacheEntry) => string[];
  private readonly clearNamespace: () => number;
  private readonly collectStats: () => SqliteBackendStats;

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
  }

  /** The unexpired entry under key (its accessCount and lastAccess updated), or undefined; a corrupt row is removed and throws CacheDecodeError. */
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

  /** Purges expired entries, then reports entries, bytes, evictions and the oldest/newest creation times of this namespace. */
  stats(): SqliteBackendStats {
    this.open('stats');
    return this.run('stats', () => this.collectStats());
  }

  /** Closes the file; idempotent. Later calls throw BackendClosedError (recordCounters is ignored). */
  close(): void {
    const db = this.db;
    if (db === undefined) return;
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

  /** Adds to this namespace's counters in the file (one synchronous UPSERT); failures are logged, never thrown. */
  recordCounters(delta: Partial<SharedCounters>): void {
    const db = this.db;
    if (db === undefined) return;
    const params = {
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
    try {
      this.statements.addCounters.run(params);
    } catch (error) {
      this.logger.error({ backend: this.name, err: error }, 'sqlite: recording counters failed');
    }
  }

  /** Reads this namespace's counters from the file: the sums of every process since the last reset. */
  async readCounters(): Promise<SqliteCounters> {
    return this.readCountersSync();
  }

  /** Synchronous readCounters(), for command-line tools. */
  readCountersSync(): SqliteCounters {
    const s = this.open('readCounters');
    const row = this.run('readCounters', () => s.readCounters.get(this.namespace) as CounterRow | undefined);
    return {
      hits: row?.hits ?? 0,
      misses: row?.misses ?? 0,
      sets: row?.sets ?? 0,
      errors: row?.errors ?? 0,
      evictions: row?.evictions ?? 0,
      savedDurationNs: row?.saved_duration_ns ?? 0,
      savedTokens: row?.saved_tokens ?? 0,
    };
  }

  /** Sets this namespace's counters in the file (evictions included) back to zero. */
  resetCounters(): void {
    const s = this.open('resetCounters');
    this.run('resetCounters', () => s.resetCounters.run(this.namespace));
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

  /** Housekeeping that must not fail a read (touching, removing an expired or corrupt row): logs and carries on. */
  private bestEffort(what: string, key: string, work: () => unknown): void {
    try {
      work();
    } catch (error) {
      this.logger.warn({ backend: this.name, key: keyForLog(key), err: error }, `sqlite: ${what} failed`);
    }
  }
}
