import {
  BackendBase,
  type BackendCapabilities,
  type BackendStats,
  type CacheEntry,
  type EntryInfo,
  entryInfoOf,
  InvalidOptionError,
  isRetired,
  type ListOptions,
  type ScopeOptions,
} from '@tinyllm/cache-core';
import { listBatchSize } from '@tinyllm/cache-core/internal';
import { LRUCache } from 'lru-cache';

/** Options of MemoryBackend; all optional. */
export interface MemoryBackendOptions {
  /** Most entries kept (a count of entries, not bytes); the least recently used goes first. @default 1000 */
  maxSize?: number;
  /** Byte budget over the entries' accounted size (UTF-8 JSON of the value + key + 290 B); never exceeded; a larger entry is refused. @default 268435456 (256 MiB, DEFAULT_MAX_BYTES) */
  maxBytes?: number;
}

/**
 * The default byte budget, 256 MiB (as SQLite's): without one, `maxSize` entries of large answers
 * (a streamed 670 KB answer is ~0.9 MB stored) could take gigabytes. Heap at the budget, measured
 * with pnpm bench: about the budget for 2 KB answers (memory-bytes), about 1.7x it for answers
 * streamed in 100,000 chunks (stream: each chunk's length is an 8-byte array element).
 */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Accounted cost of an entry beyond its payload and key: the entry record and lru-cache's slot,
 * size bookkeeping included. Measured with `pnpm bench` (memory-bytes: real heap per entry, and a
 * byte budget's real heap against the budget, which this keeps within about 1%).
 */
export const ENTRY_OVERHEAD_BYTES = 290;

function positiveInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new InvalidOptionError(name, value, 'an integer >= 1');
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const accountedBytes = (key: string, entry: CacheEntry): number => entry.sizeBytes + key.length + ENTRY_OVERHEAD_BYTES;

/**
 * In-process LRU backend on lru-cache, bounded by entries and optionally by bytes. Answers
 * synchronously, so the ResponseCache above it needs no deadline timer. Stored values are frozen
 * JSON copies: what a hit returns is exactly what was set (as JSON carries it), and no caller can
 * change it.
 */
export class MemoryBackend extends BackendBase<'sync'> {
  /** Name used in logs and errors. */
  readonly name = 'memory';
  /** It evicts, lists and keeps entries for stale-if-error; it is neither shared nor persistent. */
  readonly capabilities: BackendCapabilities = { evicts: true, lists: true, staleIfError: true };
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #maxBytes: number;
  readonly #listeners: Array<(key: string) => void> = [];
  #evictions = 0;

  constructor(options: MemoryBackendOptions = {}) {
    super('sync');
    const { maxSize = 1000, maxBytes = DEFAULT_MAX_BYTES } = options;
    positiveInteger('maxSize', maxSize);
    positiveInteger('maxBytes', maxBytes);
    this.#maxBytes = maxBytes;
    this.#lru = new LRUCache<string, CacheEntry>({
      // lru-cache's `max` is an entry count (our maxSize); its own `maxSize` is a size budget, here bytes (our maxBytes).
      max: maxSize,
      maxSize: maxBytes,
      sizeCalculation: (entry: CacheEntry, key: string) => accountedBytes(key, entry),
      dispose: (_entry, key, reason) => {
        if (reason !== 'evict') return;
        this.#evictions++;
        for (const listener of this.#listeners) listener(key);
      },
    });
  }

  /** Calls listener with the key of every entry evicted to respect the bounds. */
  onEviction(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  // Counts the access (BackendBase drops the entry if it has expired).
  protected read(key: string, now: number): CacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (entry !== undefined) {
      entry.accessCount++;
      entry.lastAccess = now;
    }
    return entry;
  }

  // A frozen copy; an entry larger than the whole byte budget is refused rather than stored over it.
  protected write(key: string, entry: CacheEntry, valueJson: string): boolean | undefined {
    if (accountedBytes(key, entry) > this.#maxBytes) {
      this.#lru.delete(key);
      return false;
    }
    const value = typeof entry.value === 'string' ? entry.value : deepFreeze(JSON.parse(valueJson));
    // The record itself stays mutable (access count, last access); its value is frozen.
    this.#lru.set(key, { ...entry, value });
    return undefined;
  }

  // stale-if-error reads do not count as an access (BackendBase filters by staleUntil).
  protected override readStale(key: string): CacheEntry | undefined {
    return this.#lru.peek(key);
  }

  protected remove(key: string): boolean {
    return this.#lru.delete(key);
  }

  // Does not count as an access.
  protected override contains(key: string): boolean {
    const entry = this.#lru.peek(key);
    return entry !== undefined && (entry.expiresAt === null || entry.expiresAt > Date.now());
  }

  protected removeAll(keyPrefix: string | undefined): number {
    this.#purgeExpired();
    if (keyPrefix === undefined) {
      const removed = this.#lru.size;
      this.#lru.clear();
      return removed;
    }
    let removed = 0;
    for (const key of [...this.#lru.keys()]) {
      if (key.startsWith(keyPrefix) && this.#lru.delete(key)) removed++;
    }
    return removed;
  }

  // Entries, accounted bytes (payload + key + overhead), evictions, oldest and newest entry; entries
  // past their TTL kept for stale-if-error count as `stale` (and in bytes), not as entries.
  protected measure(keyPrefix: string | undefined): BackendStats {
    this.#purgeExpired();
    const now = Date.now();
    let entries = 0;
    let stale = 0;
    let bytes = 0;
    let oldest: number | null = null;
    let newest: number | null = null;
    for (const [key, entry] of this.#lru.entries()) {
      if (keyPrefix !== undefined && !key.startsWith(keyPrefix)) continue;
      bytes += accountedBytes(key, entry);
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        stale++;
        continue;
      }
      entries++;
      if (oldest === null || entry.createdAt < oldest) oldest = entry.createdAt;
      if (newest === null || entry.createdAt > newest) newest = entry.createdAt;
    }
    return { entries, stale, bytes, evictions: this.#evictions, oldestCreatedAt: oldest, newestCreatedAt: newest };
  }

  /**
   * The metadata of every unexpired entry (of options.namespace only), most recently used first.
   * Walks a snapshot of the LRU's keys (references only, no copies of values), reading each entry
   * without counting an access, in batches between which the caller may change the cache.
   */
  async *list(options?: ListOptions): AsyncGenerator<EntryInfo> {
    this.assertOpen('list');
    const batchSize = listBatchSize(options);
    const prefix = options?.namespace === undefined ? undefined : `${options.namespace}:`;
    const keys = [...this.#lru.keys()];
    for (let start = 0; start < keys.length; start += batchSize) {
      this.assertOpen('list');
      const now = Date.now();
      const batch: EntryInfo[] = [];
      for (const key of keys.slice(start, start + batchSize)) {
        if (prefix !== undefined && !key.startsWith(prefix)) continue;
        const entry = this.#lru.peek(key);
        if (entry === undefined || (entry.expiresAt !== null && entry.expiresAt <= now)) continue;
        batch.push(entryInfoOf(key, entry));
      }
      yield* batch;
    }
  }

  /** The unexpired entry under key, without counting an access or refreshing its recency. */
  peek(key: string): CacheEntry | undefined {
    this.assertOpen('peek');
    const entry = this.#lru.peek(key);
    return entry === undefined || (entry.expiresAt !== null && entry.expiresAt <= Date.now()) ? undefined : entry;
  }

  /** Removes expired entries (of options.namespace only); returns how many went. */
  prune(options?: ScopeOptions): number {
    this.assertOpen('prune');
    const prefix = options?.namespace === undefined ? undefined : `${options.namespace}:`;
    const now = Date.now();
    let removed = 0;
    for (const [key, entry] of [...this.#lru.entries()]) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      // An entry within its stale-if-error window is kept, as the purge keeps it.
      if (isRetired(entry, now) && this.#lru.delete(key)) removed++;
    }
    return removed;
  }

  protected override shutdown(): void {
    this.#lru.clear();
  }

  // Drops entries past their expiry and their stale window (those within it stay for getStale).
  #purgeExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.#lru.entries()) {
      if (isRetired(entry, now)) this.#lru.delete(key);
    }
  }
}
