import { decodeEntry, encodeEntry } from './codec.js';
import type { BackendCapabilities, BackendStats, CacheBackend } from './contract.js';
import { type CacheEntry, isExpired } from './entry.js';
import { BackendClosedError } from './errors.js';

/** Options of ReferenceBackend. */
export interface ReferenceBackendOptions {
  /** The map holding encoded entries; pass one map to several backends to share a store. Default: a new map. */
  store?: Map<string, string>;
  /** Prefix that scopes this backend's keys in the store. Default "default". */
  namespace?: string;
}

/**
 * The smallest complete backend: encoded entries in a Map, scoped by namespace. It is the
 * executable reading of the contract (the conformance suite runs against it) and a starting
 * point for writing a backend of your own.
 */
export class ReferenceBackend implements CacheBackend {
  /** Name used in logs and errors. */
  readonly name = 'reference';
  /** Several instances on one map see each other's writes. */
  readonly capabilities: BackendCapabilities = { shared: true };
  readonly #store: Map<string, string>;
  readonly #prefix: string;
  #closed = false;

  constructor(options: ReferenceBackendOptions = {}) {
    this.#store = options.store ?? new Map();
    this.#prefix = `${options.namespace ?? 'default'}\u0000`;
  }

  /** The entry under key, or undefined. */
  async get(key: string): Promise<CacheEntry | undefined> {
    this.#open('get');
    const raw = this.#store.get(this.#prefix + key);
    if (raw === undefined) return undefined;
    const entry = decodeEntry(raw);
    if (isExpired(entry)) {
      this.#store.delete(this.#prefix + key);
      return undefined;
    }
    return entry;
  }

  /** Stores the entry; an elapsed expiry removes the key instead. */
  async set(key: string, entry: CacheEntry): Promise<void> {
    this.#open('set');
    if (isExpired(entry)) this.#store.delete(this.#prefix + key);
    else this.#store.set(this.#prefix + key, encodeEntry(entry));
  }

  /** Removes the entry; true when one was there. */
  async delete(key: string): Promise<boolean> {
    this.#open('delete');
    return this.#store.delete(this.#prefix + key);
  }

  /** True when an unexpired entry is stored. */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** Removes this namespace's entries and returns how many went. */
  async clear(): Promise<number> {
    this.#open('clear');
    let removed = 0;
    for (const key of [...this.#store.keys()]) {
      if (key.startsWith(this.#prefix)) {
        this.#store.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Entry count and bytes of this namespace. */
  async stats(): Promise<BackendStats> {
    this.#open('stats');
    let entries = 0;
    let bytes = 0;
    for (const [key, raw] of this.#store) {
      if (key.startsWith(this.#prefix)) {
        entries++;
        bytes += Buffer.byteLength(raw);
      }
    }
    return { entries, bytes };
  }

  /** Marks the backend closed; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(operation: string): void {
    if (this.#closed) throw new BackendClosedError(this.name, operation);
  }
}
