import {
  BackendBase,
  type BackendCapabilities,
  BackendError,
  type BackendStats,
  type CacheEntry,
  type CacheLogger,
  decodeEntry,
  type EntryInfo,
  encodeEntry,
  entryInfoOf,
  keyForLog,
  type ListOptions,
  type ModelCounters,
  type ScopeOptions,
  type SharedCounters,
  silentLogger,
  TinyLLMError,
} from '@tinyllm/cache-core';
import { listBatchSize } from '@tinyllm/cache-core/internal';
import type Database from 'better-sqlite3';
import { CounterBuffer } from './counter-buffer.js';
import { defaultCachePath } from './default-path.js';
import { evictOverflow } from './eviction.js';
import { LEASE_BUSY_TIMEOUT_MS, SqliteLeases } from './leases.js';
import { BEST_EFFORT_BUSY_TIMEOUT_MS, isBusyError, isReadOnlyError, withBusyTimeout } from './lock.js';
import { type OpenedDatabase, openDatabase } from './open-database.js';
import { resolveSqliteOptions, type SqliteBackendOptions } from './options.js';
import {
  type AggregateRow,
  type CounterRow,
  type EntryRow,
  type ListRow,
  type ModelCounterDelta,
  type ModelCounterRow,
  type PeekRow,
  prefixRange,
  prepareStatements,
  type Statements,
} from './statements.js';

/** The counters a SqliteBackend keeps in the file for its namespace (SharedCounters plus evictions). */
export interface SqliteCounters extends SharedCounters {
  /** Entries evicted to respect maxEntries / maxBytes, by every process on the file. */
  evictions: number;
  /** Upstream time saved by hits, in ns. */
  savedDurationNs: number;
  /** Tokens saved by hits. */
  savedTokens: number;
  /** Hits, misses and savings by model, by every process on the file. */
  byModel: Record<string, ModelCounters>;
  /** Stale answers served (stale-if-error), by every process on the file. */
  stale: number;
}

/** Stats of one namespace; every field is known for SQLite. */
export interface SqliteBackendStats extends BackendStats {
  /** Unexpired entries stored (not those kept past their TTL for stale-if-error). */
  entries: number;
  /** Entries past their TTL kept only for stale-if-error (their bytes are in bytes). */
  stale: number;
  /** Bytes of the stored (encoded) entries. */
  bytes: number;
  /** Evictions counted in the file (every process, since the last resetCounters()). */
  evictions: number;
  /** Creation time of the oldest entry (ms since the epoch), null when empty. */
  oldestCreatedAt: number | null;
  /** Creation time of the newest entry (ms since the epoch), null when empty. */
  newestCreatedAt: number | null;
}

const SQLITE_CAPABILITIES: BackendCapabilities = Object.freeze({
  evicts: true,
  persistent: true,
  shared: true,
  network: false,
  lists: true,
  staleIfError: true,
});

const modelCountersOf = (row: ModelCounterDelta): ModelCounters => ({
  hits: row.hits,
  misses: row.misses,
  savedDurationNs: row.saved_duration_ns,
  savedTokens: row.saved_tokens,
});

/**
 * A persistent cache backend on one SQLite file (better-sqlite3), shared safely by many processes:
 * WAL journal, a busy timeout, IMMEDIATE transactions for multi-statement writes. Entries are scoped
 * to `namespace`; each namespace is bounded by maxEntries and maxBytes with LRU eviction, and keeps
 * its hit/miss/set/error/eviction counters in the file.
 *
 * Every call is synchronous, so a wait for another process's write lock blocks the event loop. Reads
 * (get, has, readCounters, stats) never wait for it (WAL); their best-effort writes (the access update
 * of a hit, counters, stats' purge) wait at most BEST_EFFORT_BUSY_TIMEOUT_MS. Writes that matter (set,
 * delete, clear, resetCounters) wait up to busyTimeoutMs; close()'s last counter flush waits at most
 * CLOSE_FLUSH_BUSY_TIMEOUT_MS and reports what it dropped.
 *
 * A file (or directory) that cannot be written is opened read-only: hits, stats and counters are
 * read; writes fail with BackendError (through ResponseCache: skipped writes, counted as errors).
 */
export class SqliteBackend extends BackendBase<'sync'> {
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
  /** How the file is used: read-write, read-only, or snapshot (read-only, from a copy in memory); see openDatabase. */
  readonly mode: OpenedDatabase['mode'];
  /**
   * Cross-process single flight: a lease row per key being computed (table `leases`), taken by one
   * UPSERT, renewed and released by token, polled by waiters. Absent on a file opened read-only.
   */
  readonly leases?: SqliteLeases;

  readonly #db: Database.Database;
  readonly #statements: Statements;
  readonly #logger: CacheLogger;
  readonly #evictionListeners: Array<(key: string) => void> = [];
  readonly #counters: CounterBuffer;
  readonly #writeEntry: (key: string, encoded: string, size: number, entry: CacheEntry) => string[];
  readonly #writeCounters: (delta: Parameters<Statements['addCounters']['run']>[0], models: ReadonlyMap<string, ModelCounterDelta>) => void;
  readonly #clearScope: (keyPrefix: string | undefined) => number;
  /** stats() purging expired entries and repairing the usage row, in one IMMEDIATE transaction. */
  readonly #collectStats: (keyPrefix: string | undefined) => SqliteBackendStats;
  /** stats() without purging or repairing: one read transaction (WAL: needs no write lock). */
  readonly #readStats: (keyPrefix: string | undefined) => SqliteBackendStats;
  #droppedCounters: SharedCounters | undefined;

  /** Opens (creating when needed) the file; throws InvalidOptionError for bad options, BackendError when the file cannot be opened. */
  constructor(options: SqliteBackendOptions = {}) {
    super('sync');
    const resolved = resolveSqliteOptions(options);
    this.path = resolved.path ?? defaultCachePath();
    this.namespace = resolved.namespace;
    this.maxEntries = resolved.maxEntries;
    this.maxBytes = resolved.maxBytes;
    this.busyTimeoutMs = resolved.busyTimeoutMs;
    this.#logger = resolved.logger ?? silentLogger;
    const opened = openDatabase(this.path, this.busyTimeoutMs);
    const db = opened.db;
    this.mode = opened.mode;
    try {
      this.#statements = prepareStatements(db);
    } catch (cause) {
      db.close();
      throw new BackendError('sqlite', 'open', `cannot prepare statements on ${this.path}: ${(cause as Error).message}`, { cause });
    }
    this.#db = db;
    if (this.mode !== 'read-write') {
      this.#logger.warn(
        { backend: this.name, path: this.path, mode: this.mode },
        `sqlite: ${this.path} cannot be written; reading it only (nothing new is stored)`,
      );
    }
    if (this.mode === 'read-write') {
      this.leases = new SqliteLeases({
        db,
        namespace: this.namespace,
        run: (operation, work) => this.#run(operation, work),
        write: (operation, work) => this.#run(operation, () => withBusyTimeout(db, LEASE_BUSY_TIMEOUT_MS, this.busyTimeoutMs, work)),
        assertOpen: (operation) => this.assertOpen(operation),
        isBusy: (error) => isBusyError((error as { cause?: unknown } | null)?.cause),
        patienceMs: this.busyTimeoutMs,
      });
    }
    const s = this.#statements;
    const ns = this.namespace;
    const bounds = { maxEntries: this.maxEntries, maxBytes: this.maxBytes };
    this.#counters = new CounterBuffer({
      namespace: ns,
      readOnly: this.mode !== 'read-write',
      logger: this.#logger,
      path: this.path,
      write: (delta, models, busyMs) => withBusyTimeout(db, busyMs, this.busyTimeoutMs, () => this.#writeCounters(delta, models)),
    });

    this.#writeCounters = db
      .transaction((delta: Parameters<Statements['addCounters']['run']>[0], models: ReadonlyMap<string, ModelCounterDelta>): void => {
        s.addCounters.run(delta);
        for (const [model, counts] of models) s.addModelCounters.run({ ns, model, ...counts });
      })
      .immediate.bind(null);

    this.#writeEntry = db
      .transaction((key: string, encoded: string, size: number, entry: CacheEntry): string[] => {
        s.upsert.run({
          ns,
          key,
          value: encoded,
          createdAt: entry.createdAt,
          expiresAt: entry.expiresAt,
          staleUntil: typeof entry.staleUntil === 'number' && entry.expiresAt !== null && entry.staleUntil > entry.expiresAt ? entry.staleUntil : null,
          lastAccess: entry.lastAccess,
          accessCount: entry.accessCount,
          size,
          endpoint: entry.endpoint ?? null,
          model: entry.model ?? null,
          valueBytes: entry.sizeBytes,
        });
        return evictOverflow(s, ns, bounds, key);
      })
      .immediate.bind(null);

    this.#clearScope = db
      .transaction((keyPrefix: string | undefined): number => {
        s.purgeExpired.run({ ns, now: Date.now() });
        return keyPrefix === undefined ? s.deleteNamespace.run(ns).changes : s.deletePrefix.run({ ns, ...prefixRange(keyPrefix) }).changes;
      })
      .immediate.bind(null);

    this.#collectStats = db
      .transaction((keyPrefix: string | undefined): SqliteBackendStats => {
        const now = Date.now();
        s.purgeExpired.run({ ns, now });
        const row = (keyPrefix === undefined ? s.aggregate.get({ ns, now }) : s.aggregatePrefix.get({ ns, now, ...prefixRange(keyPrefix) })) as AggregateRow;
        // Self-healing: the trigger-kept usage row always matches the table after a whole-namespace stats().
        if (keyPrefix === undefined) s.repairUsage.run(ns, row.entries, row.bytes);
        return this.#statsOf(row);
      })
      .immediate.bind(null);

    this.#readStats = db
      .transaction((keyPrefix: string | undefined): SqliteBackendStats => {
        const now = Date.now();
        const row = (
          keyPrefix === undefined ? s.aggregateUnexpired.get({ ns, now }) : s.aggregateUnexpiredPrefix.get({ ns, now, ...prefixRange(keyPrefix) })
        ) as AggregateRow;
        return this.#statsOf(row);
      })
      .deferred.bind(null);
  }

  /** True when the file is used for reading only (mode read-only or snapshot). */
  get readOnly(): boolean {
    return this.mode !== 'read-write';
  }

  /**
   * After close(): this process's counts that never reached the file, because it stayed locked by
   * another process past CLOSE_FLUSH_BUSY_TIMEOUT_MS or is read-only (also logged as a warning);
   * undefined when every count was written (and before close()).
   */
  get droppedCounters(): SharedCounters | undefined {
    return this.#droppedCounters;
  }

  /**
   * Writes this process's counts still waiting for another process's lock, waiting up to
   * busyTimeoutMs; true when every count is in the file. close() never waits that long (an exit must
   * not hang on a lock), so a process that can afford the wait calls this first.
   */
  flushCounters(): boolean {
    this.assertOpen('flushCounters');
    return this.#counters.flushWaiting(this.busyTimeoutMs);
  }

  /** Entries, bytes, evictions and the oldest/newest creation times of this namespace (or of options.namespace's entries); every field is known. */
  override stats(options?: ScopeOptions): SqliteBackendStats {
    return super.stats(options) as SqliteBackendStats;
  }

  /** Calls listener with the key of each entry this instance evicts to respect maxEntries / maxBytes. */
  onEviction(listener: (key: string) => void): void {
    this.#evictionListeners.push(listener);
  }

  /** Adds to this namespace's counters in the file (and model's, when given; see CounterBuffer: never waits more than a few ms, never throws); ignored after close(). */
  recordCounters(delta: Partial<SharedCounters>, model?: string): void {
    this.#counters.add(delta, model);
  }

  /** Reads this namespace's counters from the file: the sums of every process since the last reset. */
  async readCounters(): Promise<SqliteCounters> {
    return this.readCountersSync();
  }

  /** Synchronous readCounters(), for command-line tools. Includes this instance's deltas not yet written (the file was locked). */
  readCountersSync(): SqliteCounters {
    this.assertOpen('readCounters');
    this.#counters.flush();
    const row = this.#run('readCounters', () => this.#statements.readCounters.get(this.namespace) as CounterRow | undefined);
    const pending = this.#counters.pending();
    const sum = (column: keyof CounterRow): number => (row?.[column] ?? 0) + (pending?.[column] ?? 0);
    const byModel: Record<string, ModelCounters> = {};
    const modelRows = this.#run('readCounters', () => this.#statements.readModelCounters.all(this.namespace) as ModelCounterRow[]);
    for (const modelRow of modelRows) byModel[modelRow.model] = modelCountersOf(modelRow);
    for (const [model, counts] of this.#counters.pendingModels()) {
      const total = byModel[model] ?? { hits: 0, misses: 0, savedDurationNs: 0, savedTokens: 0 };
      const extra = modelCountersOf(counts);
      byModel[model] = {
        hits: total.hits + extra.hits,
        misses: total.misses + extra.misses,
        savedDurationNs: total.savedDurationNs + extra.savedDurationNs,
        savedTokens: total.savedTokens + extra.savedTokens,
      };
    }
    return {
      byModel,
      hits: sum('hits'),
      misses: sum('misses'),
      sets: sum('sets'),
      errors: sum('errors'),
      evictions: sum('evictions'),
      savedDurationNs: sum('saved_duration_ns'),
      savedTokens: sum('saved_tokens'),
      stale: sum('stale'),
    };
  }

  /** Sets this namespace's counters in the file (evictions included) back to zero, and drops this instance's pending deltas; waits up to busyTimeoutMs for the lock. */
  resetCounters(): void {
    this.assertOpen('resetCounters');
    this.#assertWritable('resetCounters');
    this.#run('resetCounters', () => {
      this.#statements.resetCounters.run(this.namespace);
      this.#statements.resetModelCounters.run(this.namespace);
    });
    this.#counters.discard();
  }

  /**
   * The unexpired entry (its accessCount and lastAccess updated), or undefined; a corrupt row is removed
   * and throws CacheDecodeError. Never waits for another process's write lock: the read needs none (WAL),
   * and the access update (or removal of an expired / corrupt row) is skipped when the lock is not free
   * within BEST_EFFORT_BUSY_TIMEOUT_MS.
   */
  protected read(key: string, now: number): CacheEntry | undefined {
    const s = this.#statements;
    const row = this.#run('get', () => s.select.get(this.namespace, key) as EntryRow | undefined);
    if (row === undefined) return undefined;
    // Checked here, before decoding, so an expired row costs no parse (and is removed best-effort,
    // unless it is kept for stale-if-error).
    if (row.expires_at !== null && row.expires_at <= now) {
      if (row.stale_until === null || row.stale_until <= now) {
        this.#bestEffort('delete expired', key, () => s.deleteIfExpired.run({ ns: this.namespace, key, now }));
      }
      return undefined;
    }
    let entry: CacheEntry;
    try {
      entry = decodeEntry(row.value);
    } catch (error) {
      // Drop the bad row (unless another writer replaced it meanwhile), so the next get is a clean miss.
      this.#bestEffort('delete corrupt', key, () => s.deleteIfUnchanged.run(this.namespace, key, row.access_seq));
      throw error;
    }
    this.#bestEffort('touch', key, () => s.touch.run({ now, ns: this.namespace, key }));
    entry.accessCount = row.access_count + 1;
    entry.lastAccess = now;
    return entry;
  }

  /** stale-if-error: the row even past expires_at (BackendBase filters by staleUntil); not counted as an access. */
  protected override readStale(key: string): CacheEntry | undefined {
    const row = this.#run('getStale', () => this.#statements.select.get(this.namespace, key) as EntryRow | undefined);
    return row === undefined ? undefined : decodeEntry(row.value);
  }

  /** UPSERT, then eviction of the least recently used entries beyond the bounds; an entry larger than maxBytes is refused (and the old value removed). */
  protected write(key: string, entry: CacheEntry, valueJson: string): boolean | undefined {
    this.#assertWritable('set');
    const encoded = encodeEntry(entry, valueJson);
    const size = Buffer.byteLength(encoded, 'utf8');
    if (size > this.maxBytes) {
      this.#run('set', () => this.#statements.deleteKey.run(this.namespace, key));
      this.#logger.warn({ backend: this.name, key: keyForLog(key), sizeBytes: size, maxBytes: this.maxBytes }, 'sqlite: entry larger than maxBytes refused');
      return false;
    }
    const evicted = this.#run('set', () => this.#writeEntry(key, encoded, size, entry));
    if (evicted.length > 0) this.#notifyEvictions(evicted);
    return undefined;
  }

  /** true when an unexpired entry was there. */
  protected remove(key: string): boolean {
    this.#assertWritable('delete');
    const row = this.#run('delete', () => this.#statements.deleteKey.get(this.namespace, key) as { expires_at: number | null } | undefined);
    return row !== undefined && (row.expires_at === null || row.expires_at > Date.now());
  }

  /** Does not count as an access. */
  protected override contains(key: string): boolean {
    const row = this.#run('has', () => this.#statements.selectExpiry.get(this.namespace, key) as { expires_at: number | null } | undefined);
    return row !== undefined && (row.expires_at === null || row.expires_at > Date.now());
  }

  /** This namespace's entries (other namespaces in the file stay), or only those under keyPrefix; returns how many unexpired entries went. */
  protected removeAll(keyPrefix: string | undefined): number {
    this.#assertWritable('clear');
    return this.#run('clear', () => this.#clearScope(keyPrefix));
  }

  /**
   * Purges expired entries, then reports entries, bytes, evictions and the oldest/newest creation times.
   * Never waits for another process's write lock: when it is not free within BEST_EFFORT_BUSY_TIMEOUT_MS
   * (or the file is read-only), the same figures are read without purging (expired entries left out).
   */
  protected measure(keyPrefix: string | undefined): SqliteBackendStats {
    if (!this.readOnly) {
      try {
        return withBusyTimeout(this.#db, BEST_EFFORT_BUSY_TIMEOUT_MS, this.busyTimeoutMs, () => this.#collectStats(keyPrefix));
      } catch (error) {
        if (!isBusyError(error)) return this.#run('stats', () => this.#rethrow(error));
        this.#logger.debug({ backend: this.name, err: error }, 'sqlite: the file is locked by another process; stats read without purging expired entries');
      }
    }
    return this.#run('stats', () => this.#readStats(keyPrefix));
  }

  /**
   * The metadata of every unexpired entry of this namespace (of options.namespace's keys only), in key
   * order: one statement page of batchSize rows at a time (keyset paging on the primary key, read
   * with `.iterate()`), so neither the file nor a whole namespace is ever held, no value is read, and
   * the caller may write between pages.
   */
  async *list(options?: ListOptions): AsyncGenerator<EntryInfo> {
    this.assertOpen('list');
    const limit = listBatchSize(options);
    const range = options?.namespace === undefined ? undefined : prefixRange(`${options.namespace}:`);
    const s = this.#statements;
    let after = '';
    for (;;) {
      this.assertOpen('list');
      const params = { ns: this.namespace, after, now: Date.now(), limit, ...range };
      const page: EntryInfo[] = this.#run('list', () => {
        const rows: EntryInfo[] = [];
        for (const row of (range === undefined ? s.listPage : s.listPagePrefix).iterate(params) as IterableIterator<ListRow>) {
          rows.push(
            entryInfoOf(row.key, {
              createdAt: row.created_at,
              expiresAt: row.expires_at,
              sizeBytes: row.value_bytes ?? row.size_bytes,
              accessCount: row.access_count,
              lastAccess: row.last_access,
              model: row.model,
              endpoint: row.endpoint,
            }),
          );
        }
        return rows;
      });
      yield* page;
      if (page.length < limit) return;
      after = (page[page.length - 1] as EntryInfo).key;
    }
  }

  /** The unexpired entry under key without counting an access, or undefined; a corrupt row throws CacheDecodeError. */
  peek(key: string): CacheEntry | undefined {
    this.assertOpen('peek');
    const row = this.#run('peek', () => this.#statements.peek.get(this.namespace, key) as PeekRow | undefined);
    if (row === undefined || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined;
    const entry = decodeEntry(row.value);
    entry.accessCount = row.access_count;
    entry.lastAccess = row.last_access;
    return entry;
  }

  /** Removes this namespace's expired entries (of options.namespace's keys only); returns how many went. Waits up to busyTimeoutMs for the lock. */
  prune(options?: ScopeOptions): number {
    this.assertOpen('prune');
    this.#assertWritable('prune');
    const now = Date.now();
    const s = this.#statements;
    return this.#run('prune', () =>
      options?.namespace === undefined
        ? s.purgeExpired.run({ ns: this.namespace, now }).changes
        : s.purgeExpiredPrefix.run({ ns: this.namespace, now, ...prefixRange(`${options.namespace}:`) }).changes,
    );
  }

  /** Writes the pending counters (waiting at most CLOSE_FLUSH_BUSY_TIMEOUT_MS; see droppedCounters), then closes the file. */
  protected override shutdown(): void {
    this.#droppedCounters = this.#counters.finish();
    try {
      this.#db.close();
    } catch (cause) {
      throw new BackendError('sqlite', 'close', `${this.path}: ${(cause as Error).message}`, { cause });
    }
  }

  // Live entries only: rows kept past their TTL for stale-if-error are `stale` (their bytes count).
  #statsOf(row: AggregateRow): SqliteBackendStats {
    const counters = this.#statements.readCounters.get(this.namespace) as CounterRow | undefined;
    return {
      entries: row.entries - row.stale,
      stale: row.stale,
      bytes: row.bytes,
      evictions: counters?.evictions ?? 0,
      oldestCreatedAt: row.oldest,
      newestCreatedAt: row.newest,
    };
  }

  /** Tells the onEviction listeners (after the transaction committed); a throwing listener is logged. */
  #notifyEvictions(keys: string[]): void {
    this.#logger.debug({ backend: this.name, evicted: keys.length }, 'sqlite: evicted least recently used entries');
    for (const key of keys) {
      for (const listener of this.#evictionListeners) {
        try {
          listener(key);
        } catch (error) {
          this.#logger.error({ backend: this.name, key: keyForLog(key), err: error }, 'sqlite: eviction listener threw');
        }
      }
    }
  }

  #assertWritable(operation: string): void {
    if (this.readOnly) throw new BackendError(this.name, operation, `${this.path} cannot be written (opened ${this.mode}); nothing is stored`);
  }

  #rethrow(error: unknown): never {
    throw error;
  }

  /** Runs a driver call, turning driver errors into BackendError (with the SqliteError as cause). */
  #run<T>(operation: string, work: () => T): T {
    try {
      return work();
    } catch (cause) {
      if (TinyLLMError.isInstance(cause)) throw cause;
      const message = isBusyError(cause)
        ? `${this.path} is locked by another process (waited ${this.busyTimeoutMs} ms): ${(cause as Error).message}`
        : isReadOnlyError(cause)
          ? `${this.path} cannot be written: ${(cause as Error).message}`
          : `${this.path}: ${(cause as Error).message}`;
      throw new BackendError(this.name, operation, message, { cause });
    }
  }

  /**
   * Housekeeping that must not fail or stall a read (touching, removing an expired or corrupt row): waits
   * at most BEST_EFFORT_BUSY_TIMEOUT_MS for the write lock; a busy file skips it (debug log), any other
   * failure is logged as a warning; neither reaches the caller. Skipped entirely on a read-only file.
   */
  #bestEffort(what: string, key: string, work: () => unknown): void {
    if (this.readOnly) return;
    try {
      withBusyTimeout(this.#db, BEST_EFFORT_BUSY_TIMEOUT_MS, this.busyTimeoutMs, work);
    } catch (error) {
      if (isBusyError(error)) {
        this.#logger.debug({ backend: this.name, key: keyForLog(key), err: error }, `sqlite: ${what} skipped, the file is locked by another process`);
      } else {
        this.#logger.warn({ backend: this.name, key: keyForLog(key), err: error }, `sqlite: ${what} failed`);
      }
    }
  }
}
