import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendBase } from './backend-base.js';
import { decodeEntry, encodeEntry } from './codec.js';
import type { BackendCapabilities, BackendStats, CacheLeases, LeaseAcquireResult } from './contract.js';
import { type CacheEntry, isExpired, isRetired } from './entry.js';

/** Options of ReferenceBackend. */
export interface ReferenceBackendOptions {
  /** The map holding encoded entries; pass one map to several backends to share a store. @default a new map */
  store?: Map<string, string>;
  /** Prefix that scopes this backend's keys in the store. @default "default" */
  namespace?: string;
  /** Offer cross-process single flight (CacheLeases) over the shared map, as a reference for backends that implement it. @default false */
  leases?: boolean;
}

/** How often waitForOutcome looks at the map again, in ms. */
const LEASE_POLL_MS = 5;

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
  /** Cross-process single flight over the shared map (only with options.leases). */
  readonly leases?: CacheLeases;

  constructor(options: ReferenceBackendOptions = {}) {
    super();
    this.#store = options.store ?? new Map();
    this.#prefix = `${options.namespace ?? 'default'}\u0000`;
    if (options.leases === true) this.leases = this.#mapLeases();
  }

  // A lease is a map record "token expiresAt" under a key entries never use (they start with the
  // namespace), so clear() and stats() never see it.
  #mapLeases(): CacheLeases {
    const leaseKey = (key: string): string => `\u0001lease\u0000${this.#prefix}${key}`;
    const holder = (key: string): string | undefined => {
      const record = this.#store.get(leaseKey(key));
      if (record === undefined) return undefined;
      const [token, expiresAt] = record.split(' ');
      return Number(expiresAt) > Date.now() ? token : undefined;
    };
    return {
      acquire: (key: string, ttlMs: number): LeaseAcquireResult => {
        this.assertOpen('leaseAcquire');
        if (holder(key) !== undefined) return undefined;
        const token = randomUUID();
        this.#store.set(leaseKey(key), `${token} ${Date.now() + ttlMs}`);
        return token;
      },
      renew: (key: string, token: string, ttlMs: number): boolean => {
        if (holder(key) !== token) return false;
        this.#store.set(leaseKey(key), `${token} ${Date.now() + ttlMs}`);
        return true;
      },
      release: (key: string, token: string): boolean => {
        if (holder(key) !== token) return false;
        return this.#store.delete(leaseKey(key));
      },
      waitForOutcome: async (key: string, timeoutMs: number): Promise<void> => {
        const until = Date.now() + timeoutMs;
        while (holder(key) !== undefined && Date.now() < until) await sleep(LEASE_POLL_MS);
      },
    };
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
