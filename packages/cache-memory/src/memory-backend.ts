import { type BackendCapabilities, BackendClosedError, type BackendStats, type CacheBackend, type CacheEntry, InvalidOptionError } from '@tinyllm/cache-core';
import { LRUCache } from 'lru-cache';

/** Options of MemoryBackend; all optional. */
export interface MemoryBackendOptions {
  /** Most entries kept; the least recently used goes first. Default 1000. */
  maxSize?: number;
  /** Byte budget over the entries' accounted size (payload + key + overhead); never exceeded. Default: none. */
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

/** Deep-freezes a fresh JSON copy so no caller can change what later hits return. */
function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * In-process LRU backend on lru-cache, bounded by entries and optionally by bytes. Answers
 * synchronously, so the ResponseCache above it needs no deadline timer. Stored values are frozen
 * JSON copies: what a hit returns is exactly what was set, and cannot be changed by a caller.
 */
export class MemoryBackend implements CacheBackend {
  /** Name used in logs and errors. */
  readonly name = 'memory';
  /** It evicts; it is neither shared nor persistent. */
  readonly capabilities: BackendCapabilities = { evicts: true };
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #listeners: Array<(key: string) => void> = [];
  #evictions = 0;
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    const { maxSize = 1000, maxBytes } = options;
    positiveInteger('maxSize', maxSize);
    positiveInteger('maxBytes', maxBytes);
    this.#lru = new LRUCache<string, CacheEntry>({
      max: maxSize,
      ...(maxBytes === undefined
        ? {}
        : {
            maxSize: maxBytes,
            // An entry larger than the whole budget is refused by lru-cache (maxEntrySize), never stored over budget.
            sizeCalculation: (entry: CacheEntry, key: string) => entry.sizeBytes + key.length + ENTRY_OVERHEAD_BYTES,
          }),
      dispose: (_entry, key, reason) => {
        if (reason !== 'evict') return;
        this.#evictions++;
        for (const listener of this.#listeners) listener(key);
      },
    });
  }

  /** The entry, or undefined when absent or expired (an expired one is dropped). Counts the access. */
  get(key: string): CacheEntry | undefined {
    if (this.#closed) throw new BackendClosedError(this.name, 'get');
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    const now = Date.now();
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      this.#lru.delete(key);
      return undefined;
    }
    entry.accessCount++;
    entry.lastAccess = now;
    return entry;
  }

  /** Stores a frozen copy of the entry; an elapsed expiry removes the key instead. */
  set(key: string, entry: CacheEntry): void {
    if (this.#closed) throw new BackendClosedError(this.name, 'set');
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      this.#lru.delete(key);
      return;
    }
    // The record itself stays mutable (access count, last access); its value is frozen.
    this.#lru.set(key, { ...entry, value: frozenCopy(entry.value) });
  }

  /** Removes the entry; true when one was there. */
  delete(key: string): boolean {
    if (this.#closed) throw new BackendClosedError(this.name, 'delete');
    return this.#lru.delete(key);
  }

  /** True when an unexpired entry is stored. Does not count as an access. */
  has(key: string): boolean {
    if (this.#closed) throw new BackendClosedError(this.name, 'has');
    const entry = this.#lru.peek(key);
    return entry !== undefined && (entry.expiresAt === null || entry.expiresAt > Date.now());
  }

  /** Removes every entry; returns how many went. */
  clear(): number {
    if (this.#closed) throw new BackendClosedError(this.name, 'clear');
    this.#purgeExpired();
    const removed = this.#lru.size;
    this.#lru.clear();
    return removed;
  }

  /** Entries, accounted bytes (payload + key + overhead), evictions, oldest and newest entry. */
  stats(): BackendStats {
    if (this.#closed) throw new BackendClosedError(this.name, 'stats');
    this.#purgeExpired();
    let bytes = 0;
    let oldest: number | null = null;
    let newest: number | null = null;
    for (const [key, entry] of this.#lru.entries()) {
      bytes += entry.sizeBytes + key.length + ENTRY_OVERHEAD_BYTES;
      if (oldest === null || entry.createdAt < oldest) oldest = entry.createdAt;
      if (newest === null || entry.createdAt > newest) newest = entry.createdAt;
    }
    return { entries: this.#lru.size, bytes, evictions: this.#evictions, oldestCreatedAt: oldest, newestCreatedAt: newest };
  }

  /** Drops every entry and refuses later calls; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lru.clear();
  }

  /** Calls listener with the key of every entry evicted to respect the bounds. */
  onEviction(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  #purgeExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.#lru.entries()) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.#lru.delete(key);
    }
  }
}
