import { BackendBase } from './backend-base.js';
import { decodeEntry, encodeEntry } from './codec.js';
import type { BackendCapabilities, BackendStats } from './contract.js';
import { type CacheEntry, isExpired, isRetired } from './entry.js';

/** Options of ReferenceBackend. */
export interface ReferenceBackendOptions {
  /** The map holding encoded entries; pass one map to several backends to share a store. @default a new map */
  store?: Map<string, string>;
  /** Prefix that scopes this backend's keys in the store. @default "default" */
  namespace?: string;
}

/**
 * The smallest complete backend: encoded entries in a Map, scoped by namespace. It is the
 * executable reading of the contract (the conformance suite runs against it) and a starting
 * point for writing a backend of your own: BackendBase supplies the closed state, expiry, the
 * JSON rule and has(), so only the storage is left.
 */
export class ReferenceBackend extends BackendBase {
  /** Name used in logs and errors. */
  readonly name = 'reference';
  /** Several instances on one map see each other's writes; entries are kept for stale-if-error. */
  readonly capabilities: BackendCapabilities = { shared: true, staleIfError: true };
  readonly #store: Map<string, string>;
  readonly #prefix: string;

  constructor(options: ReferenceBackendOptions = {}) {
    super();
    this.#store = options.store ?? new Map();
    this.#prefix = `${options.namespace ?? 'default'}\u0000`;
  }

  protected read(key: string): CacheEntry | undefined {
    const raw = this.#store.get(this.#prefix + key);
    return raw === undefined ? undefined : decodeEntry(raw);
  }

  protected write(key: string, entry: CacheEntry, valueJson: string): void {
    this.#store.set(this.#prefix + key, encodeEntry(entry, valueJson));
  }

  protected remove(key: string): boolean {
    return this.#store.delete(this.#prefix + key);
  }

  protected removeAll(keyPrefix: string | undefined): number {
    let removed = 0;
    for (const [key] of this.#entries(keyPrefix)) {
      this.#store.delete(key);
      removed++;
    }
    return removed;
  }

  // Entries past their TTL but kept for stale-if-error count as `stale`, not as entries; retired ones go.
  protected measure(keyPrefix: string | undefined): BackendStats {
    let entries = 0;
    let stale = 0;
    let bytes = 0;
    const now = Date.now();
    for (const [key, raw] of this.#entries(keyPrefix)) {
      const entry = decodeEntry(raw);
      if (isRetired(entry, now)) {
        this.#store.delete(key);
        continue;
      }
      if (isExpired(entry, now)) stale++;
      else entries++;
      bytes += Buffer.byteLength(raw);
    }
    return { entries, stale, bytes };
  }

  // A snapshot, so removeAll can delete while iterating.
  #entries(keyPrefix: string | undefined): Array<[string, string]> {
    const start = this.#prefix + (keyPrefix ?? '');
    return [...this.#store].filter(([key]) => key.startsWith(start));
  }
}
