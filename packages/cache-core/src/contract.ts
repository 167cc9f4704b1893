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
  /** Lists its entries' metadata without their values (list), reads an entry without counting an access (peek), and removes expired entries (prune). */
  lists?: boolean;
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

/** The metadata of one stored entry, without its value: what a listing yields. */
export interface EntryInfo {
  /** The key the entry was set under (as passed to set, without the backend's own prefix). */
  key: string;
  /** The key namespace (what comes before the last ":" of a key generateCacheKey wrote with a namespace), or null. */
  namespace: string | null;
  /** The endpoint that produced the answer (generate, chat, embed...), or null when not recorded. */
  endpoint: string | null;
  /** The model that produced the answer, or null when not recorded. */
  model: string | null;
  /** When the entry was written, in ms since the epoch. */
  createdAt: number;
  /** When it stops being served, in ms since the epoch; null = never. */
  expiresAt: number | null;
  /** Size of the stored value in bytes (UTF-8 JSON). */
  sizeBytes: number;
  /** Reads of the entry (hits), where the backend counts them (Redis does not: 0). */
  accessCount: number;
  /** Last read (or the write), in ms since the epoch, where the backend records it. */
  lastAccess: number;
}

/** Options of list(). */
export interface ListOptions extends ScopeOptions {
  /** Entries read from the store per round trip or statement page. @default 500 */
  batchSize?: number;
}

/** Per-model counters: what hits of one model's answers saved. */
export interface ModelCounters {
  /** Lookups that found an entry of this model. */
  hits: number;
  /** Lookups for this model that found none. */
  misses: number;
  /** Upstream time saved by this model's hits, in ns. */
  savedDurationNs: number;
  /** Tokens saved by this model's hits. */
  savedTokens: number;
}

/** What acquire() answers: a token when this caller now holds the lease, undefined when another holder has it, 'unavailable' when the store cannot say right now. */
export type LeaseAcquireResult = string | undefined | 'unavailable';

/**
 * Cross-process single flight (an optional backend capability): a short lease per key, so that of
 * several processes missing the same key, one computes while the others wait for its write. It is
 * an efficiency lock, never a correctness one: ResponseCache treats any failure as "compute here".
 * Lease records are not cache entries: clear() and stats() never see them.
 */
export interface CacheLeases {
  /** Takes the lease on key for ttlMs when nobody holds it (or its holder's lease lapsed): a fresh random token, undefined when held, 'unavailable' when the store cannot tell. */
  acquire(key: string, ttlMs: number): MaybePromise<LeaseAcquireResult>;
  /** Extends the lease to ttlMs from now if token still holds it; false when it no longer does. */
  renew(key: string, token: string, ttlMs: number): MaybePromise<boolean>;
  /** Removes the lease if token still holds it (compare-and-delete) and wakes the waiters; true when it did. */
  release(key: string, token: string): MaybePromise<boolean>;
  /**
   * Resolves once key's lease is released or has lapsed (its holder wrote the entry, gave up or
   * died), or after timeoutMs at the latest: a bounded wait, so a lost wake-up costs at most
   * timeoutMs. Resolving says nothing about which; the caller reads the key again.
   */
  waitForOutcome(key: string, timeoutMs: number): Promise<void>;
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
  /** The same counts by model (hits, misses, savings), where the backend keeps them. */
  byModel?: Record<string, ModelCounters>;
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
  /** Cross-process single flight for shared backends (see CacheLeases); absent: single flight holds within one process only. */
  readonly leases?: CacheLeases;
  /**
   * Adds to the counters kept in the store (shared backends); must not wait on the network, and is
   * ignored after close(). With model, the delta's hits, misses and savings also count for that model.
   */
  recordCounters?(delta: Partial<SharedCounters>, model?: string): void;
  /** Reads the counters kept in the store (shared backends). */
  readCounters?(): MaybePromise<SharedCounters>;
  /** Resets the counters kept in the store (shared backends). */
  resetCounters?(): MaybePromise<void>;
  /**
   * Yields the metadata of every unexpired entry (of options.namespace only, when given), streaming:
   * a store is read in batches, never whole (backends with capabilities.lists). Entries written or
   * removed during a listing may or may not appear.
   */
  list?(options?: ListOptions): AsyncIterable<EntryInfo>;
  /** The unexpired entry under key without counting an access, or undefined (backends with capabilities.lists). */
  peek?(key: string): MaybePromise<CacheEntry | undefined>;
  /** Removes expired entries (of options.namespace only, when given); returns how many went (backends with capabilities.lists). */
  prune?(options?: ScopeOptions): MaybePromise<number>;
}
