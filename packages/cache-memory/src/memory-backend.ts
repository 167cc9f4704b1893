import { BackendBase, type BackendCapabilities, type BackendStats, type CacheEntry, InvalidOptionError, isRetired } from '@tinyllm/cache-core';
import { LRUCache } from 'lru-cache';

/** Options of MemoryBackend; all optional. */
export interface MemoryBackendOptions {
  /** Most entries kept (a count of entries, not bytes); the least recently used goes first. @default 1000 */
  maxSize?: number;
  /** Byte budget over the entries' accounted size (UTF-8 JSON of the value + key + 290 B); never exceeded; a larger entry is refused. @default none */
  maxBytes?: number;
}

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
  /** It evicts and keeps entries for stale-if-error; it is neither shared nor persistent. */
  readonly capabilities: BackendCapabilities = { evicts: true, staleIfError: true };
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #maxBytes: number | undefined;
  readonly #listeners: Array<(key: string) => void> = [];
  #evictions = 0;

  constructor(options: MemoryBackendOptions = {}) {
    super('sync');
    const { maxSize = 1000, maxBytes } = options;
    positiveInteger('maxSize', maxSize);
    positiveInteger('maxBytes', maxBytes);
    this.#maxBytes = maxBytes;
    this.#lru = new LRUCache<string, CacheEntry>({
      // lru-cache's `max` is an entry count (our maxSize); its own `maxSize` is a size budget, here bytes (our maxBytes).
      max: maxSize,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes, sizeCalculation: (entry: CacheEntry, key: string) => accountedBytes(key, entry) }),
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
    if (this.#maxBytes !== undefined && accountedBytes(key, entry) > this.#maxBytes) {
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
