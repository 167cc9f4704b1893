import type { CacheEntry } from './entry.js';

/** A value or a promise of it: in-process backends answer synchronously and skip the deadline timer. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What a backend's set() answers: false when it refused the entry, anything else (nothing at all,
 * for a backend written as returning void) when it stored it.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: backends written as `set(): void` (or Promise<void>) must still fit the contract
export type SetResult = boolean | void;

/** What a backend can do; the conformance suite runs the cases that apply. */
export interface BackendCapabilities {
  /** Drops entries on its own when a bound (entries or bytes) is reached. */
  evicts?: boolean;
  /** Keeps entries across process restarts. */
  persistent?: boolean;
  /** Several processes (or backend instances) on one store see each other's entries. */
  shared?: boolean;
  /** Talks over a network, so it can be unreachable. */
  network?: boolean;
  /**
   * An upper bound, in ms, on how long get/set/delete/has take to settle right now (for example a
   * driver's own command timeout). When it is at most the ResponseCache's timeoutMs, the cache
   * trusts it and runs no deadline of its own on those calls. Omit it unless it truly holds.
   */
  settlesWithinMs?: number;
  /**
   * Keeps an entry past its expiresAt until its staleUntil (never serving it from get) and answers
   * getStale: stale-if-error works on it. The conformance suite runs its stale cases.
   */
  staleIfError?: boolean;
}

/** Narrows clear() and stats() to the entries of one key namespace. */
export interface ScopeOptions {
  /**
   * Only entries whose key starts with `namespace + ":"` (the form generateCacheKey writes for a
   * namespace) are cleared or counted. @default every entry of the backend's own namespace
   */
  namespace?: string;
}

/** Size figures of one backend's own namespace. */
export interface BackendStats {
  /** Entries currently stored (expired ones may be counted until they are purged; entries only kept for stale-if-error are not, where the backend tells them apart). */
  entries: number;
  /** Entries past their TTL kept only for stale-if-error (counted in bytes, not in entries), where the backend keeps them. */
  stale?: number;
  /** Bytes used by the stored values, where the backend knows. */
  bytes?: number;
  /** Entries the backend evicted to respect its bounds, where it evicts. */
  evictions?: number;
  /** Creation time of the oldest stored entry (ms since the epoch), where known. */
  oldestCreatedAt?: number | null;
  /** Creation time of the newest stored entry (ms since the epoch), where known. */
  newestCreatedAt?: number | null;
  /** Keys under the backend's namespace that are not cache entries (left alone by clear), where the store can hold such keys. */
  foreignKeys?: number;
}

/** Counters a shared backend keeps in the store, so another process can read them. */
export interface SharedCounters {
  /** Lookups that found an entry. */
  hits: number;
  /** Lookups that found none. */
  misses: number;
  /** Entries written. */
  sets: number;
  /** Failed cache operations. */
  errors: number;
  /** Entries evicted to respect the store's bounds, where the backend evicts. */
  evictions?: number;
  /** Upstream time saved by hits, in ns (sum of the responses' total_duration). */
  savedDurationNs?: number;
  /** Tokens saved by hits (eval_count + prompt_eval_count of the responses). */
  savedTokens?: number;
  /** Expired entries served because the upstream failed (stale-if-error), where the backend keeps this counter. */
  stale?: number;
}

/**
 * The contract every storage backend implements. Keys arrive already derived (see
 * generateCacheKey); a backend scopes them to its own namespace. A backend may throw or reject:
 * ResponseCache turns every failure into a miss (fail open).
 */
export interface CacheBackend {
  /** Short name used in logs and errors, e.g. "memory", "redis". */
  readonly name: string;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities;
  /** The entry under key, or undefined when absent or expired (an entry within its stale window is expired here too). */
  get(key: string): MaybePromise<CacheEntry | undefined>;
  /**
   * Optional (stale-if-error): the entry under key even past its expiresAt, as long as its
   * staleUntil has not passed; undefined when absent or past both. Does not count as an access.
   * A backend without it never serves stale answers.
   */
  getStale?(key: string): MaybePromise<CacheEntry | undefined>;
  /**
   * Stores the entry until entry.expiresAt (null = no expiry), or until entry.staleUntil when that
   * is later and the backend answers getStale (it must never serve the entry from get after expiresAt). An already elapsed expiry stores
   * nothing and removes any old value. Resolves false when the backend refuses the entry (larger
   * than its bounds, or a value JSON cannot carry: undefined, a function, a symbol, a BigInt); a
   * refused entry is not stored and any old value under the key is removed.
   */
  set(key: string, entry: CacheEntry): MaybePromise<SetResult>;
  /** Removes the entry; true when one was there. */
  delete(key: string): MaybePromise<boolean>;
  /** True when an unexpired entry is stored under key. */
  has(key: string): MaybePromise<boolean>;
  /** Removes every entry of this backend's namespace (and nothing else), or only those of options.namespace; returns how many went. */
  clear(options?: ScopeOptions): MaybePromise<number>;
  /** Entry count and, where known, bytes and evictions of this namespace (or only of options.namespace's entries). */
  stats(options?: ScopeOptions): MaybePromise<BackendStats>;
  /** Releases connections and handles; idempotent. Later calls fail with BackendClosedError. */
  close(): MaybePromise<void>;
  /** Calls listener for each entry the backend evicts to respect its bounds (backends that evict). */
  onEviction?(listener: (key: string) => void): void;
  /** Adds to the counters kept in the store (shared backends); must not wait on the network, and is ignored after close(). */
  recordCounters?(delta: Partial<SharedCounters>): void;
  /** Reads the counters kept in the store (shared backends). */
  readCounters?(): MaybePromise<SharedCounters>;
  /** Resets the counters kept in the store (shared backends). */
  resetCounters?(): MaybePromise<void>;
}
