import { CHECKS_EXPIRY } from './backend-base.js';
import { type CacheOptions, isCacheBackend, resolveCacheOptions, type Savings } from './cache-options.js';
import type { BackendStats, CacheBackend, MaybePromise, ModelCounters, ScopeOptions, SetResult, SharedCounters } from './contract.js';
import { assertStaleTtl, assertTtl, createEntry } from './create-entry.js';
import { DeadlineQueue, withDeadline } from './deadline.js';
import { type CacheEntry, isExpired, isRetired } from './entry.js';
import { BackendClosedError, CacheDecodeError, InvalidKeyError, InvalidOptionError } from './errors.js';
import { CacheEvents, type ResponseCacheEvents, type WriteFailure } from './events.js';
import { assertNamespace, type CacheKeyOptions, type CacheKeyRequest, generateCacheKey } from './keys.js';
import { type HeldLease, type LeaseHost, takeTurn } from './lease-flight.js';
import { type CacheLogger, keyForLog, silentLogger } from './logger.js';
import { type CacheMetrics, MetricsRecorder } from './metrics.js';

/** Options of ResponseCache: a backend plus every CacheOptions setting. */
export interface ResponseCacheOptions<T = unknown> extends CacheOptions<T> {
  /** Where entries live. @default (required) */
  backend: CacheBackend;
}

/** Per-call options of set. */
export interface SetOptions {
  /** TTL of this entry in seconds (> 0, at most MAX_TTL_SECONDS); null = no expiry; 0 is refused (use noStore). @default the cache's defaultTtl */
  ttl?: number | null;
  /** The model that produced the value (kept as entry metadata; hits and misses are also counted by model). @default none */
  model?: string;
  /** The endpoint that produced the value (kept as entry metadata, shown by listings). @default none */
  endpoint?: string;
  /** Seconds this entry is kept past its TTL for stale-if-error (0 = not kept). @default the cache's staleIfErrorTtl */
  staleIfErrorTtl?: number;
}

/** Per-call options of getOrSet and resolve. */
export interface GetOrSetOptions<T> extends SetOptions {
  /** Skip the read and compute a fresh value, which replaces the stored one. @default false */
  forceRefresh?: boolean;
  /** Do not store the computed value. @default false */
  noStore?: boolean;
  /** Decides whether a computed value may be stored (e.g. only complete answers). @default always */
  shouldStore?: (value: T) => boolean;
  /**
   * Checks a stored value for this call (on top of the cache's own validate), e.g. that a record
   * under a chat key is a chat answer. A value that fails is a miss plus an error, and the computed
   * value overwrites it. @default every value passes
   */
  validate?: (value: T) => boolean;
  /** Serve a stored entry only when it is at most this many seconds old; an older one is a miss (not an error) and is replaced. @default any age */
  maxAgeSeconds?: number;
  /**
   * When compute fails (for this caller or for the flight it joined), whether the failure may be
   * answered by an expired entry still within its stale window (status `stale`); a failure it
   * refuses, or no such entry, rejects as before. Only used when the stale window is > 0.
   * @default every failure
   */
  staleIfError?: (error: unknown) => boolean;
  /** How long past its expiry an entry may be to answer a failed compute, in seconds (0 = never). @default the cache's staleIfErrorTtl */
  maxStaleSeconds?: number;
  /**
   * Called when this call joins a computation already in flight, with the handle its leader
   * published (see FlightControl.publish), as soon as there is one. Lets a joiner follow the
   * leader's progress (a live stream) instead of waiting for the final value. @default none
   */
  onJoin?: (handle: unknown) => void;
}

/** What compute() receives from resolve(): a way to share its progress with callers that join it. */
export interface FlightControl {
  /** Hands joiners (their onJoin) a handle on this computation, e.g. a live stream they can read from. */
  publish(handle: unknown): void;
}

/** How a resolve() call was answered. */
export type CacheStatus = 'hit' | 'miss' | 'coalesced' | 'refresh' | 'stale';

/** The value of a resolve() call and how it was obtained. */
export interface CacheResult<T> {
  /** The value, from the cache or from compute. */
  value: T;
  /**
   * hit: from the cache; miss: computed here; coalesced: shared another caller's computation;
   * refresh: forced recomputation; stale: compute failed and an expired entry within its stale
   * window answered instead (never a fresh entry).
   */
  status: CacheStatus;
  /** The stored entry on a hit or a stale answer (its metadata: createdAt, expiresAt, accessCount...). */
  entry?: CacheEntry<T>;
  /**
   * True on a hit that another process computed while this call waited on its lease (cross-process
   * single flight): counted as a miss plus coalescedRemote, like a coalesced call, not as a hit.
   */
  remote?: boolean;
  /**
   * On a miss, a refresh and a coalesced call: resolves true once the computed value's background
   * write landed, false when nothing was stored (noStore, shouldStore said no, the write failed or
   * was refused, the cache closed first). Never rejects. Callers that coalesced share one promise.
   */
  stored?: Promise<boolean>;
}

/** CacheMetrics plus what hits saved. */
export interface ResponseCacheMetrics extends CacheMetrics {
  /** Upstream time hits saved in this process, in ns. */
  savedDurationNs: number;
  /** Tokens hits saved in this process. */
  savedTokens: number;
  /** Hits, misses and savings of this process by model (calls that named a model, entries that recorded one). */
  byModel: Record<string, ModelCounters>;
}

/** Everything getStats() knows: this process's metrics, the backend's size and the store-wide counters. */
export interface CacheStats {
  /** This process's counters. */
  metrics: ResponseCacheMetrics;
  /** Entries, bytes and evictions of the backend's namespace; undefined when the backend could not answer. */
  backend: BackendStats | undefined;
  /** Counters kept in the store by shared backends (every process's), when the backend keeps them. */
  shared: SharedCounters | undefined;
}

/** A computation in flight and the outcome of its write, shared by the callers that join it. */
interface Flight<T> {
  value: Promise<T>;
  stored: Promise<boolean>;
  /** What the leader published for joiners (FlightControl.publish), once it did. */
  handle: unknown;
  published: boolean;
  /** Joiners waiting for the handle. */
  joiners: Array<(handle: unknown) => void>;
  /** The entry another process wrote while this flight waited on its lease (nothing is computed or written here then). */
  remote?: CacheEntry<T>;
  /** The cross-process lease this flight holds while it computes, released once the write landed. */
  lease?: HeldLease;
}

/** What became of one write. */
type WriteOutcome = true | WriteFailure;

const entryValue = <T>(entry: CacheEntry<T> | undefined): T | undefined => entry?.value;

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new InvalidKeyError(key);
}

/**
 * The cache every package uses: a backend behind a deadline, fail-open error handling, TTLs in
 * seconds, metrics, typed events and single flight. A failing backend never fails the caller: the
 * lookup is a miss (or the write is skipped), `errors` grows, the logger and the `error` event
 * hear about it.
 */
export class ResponseCache<T = unknown> {
  /** The storage backend. */
  readonly backend: CacheBackend;
  /** TTL in seconds of entries set without one; null = no expiry. */
  readonly defaultTtl: number | null;
  /** Seconds entries are kept past their TTL for stale-if-error; 0 = off. */
  readonly staleIfErrorTtl: number;
  /** Deadline of each get/set/delete/has backend call, in ms. */
  readonly timeoutMs: number;
  /** Deadline of clear() and getStats(), in ms. */
  readonly bulkTimeoutMs: number;
  /** Namespace written into keys derived by generateCacheKey. */
  readonly namespace: string | undefined;
  /** True when misses take a cross-process lease (the option is on and the backend offers leases). */
  readonly crossProcessFlight: boolean;
  /** Lifetime of a cross-process lease without renewal, in ms. */
  readonly leaseTtlMs: number;
  readonly #metrics = new MetricsRecorder();
  readonly #enableMetrics: boolean;
  readonly #logger: CacheLogger;
  readonly #debug: boolean;
  readonly #events: CacheEvents<T>;
  readonly #savingsOf: ((value: T) => Savings | undefined) | undefined;
  readonly #validate: ((value: unknown) => boolean) | undefined;
  // Backends built on BackendBase never return an expired entry; any other gets the check here.
  readonly #checkExpiry: boolean;
  readonly #inflight = new Map<string, Flight<T>>();
  readonly #pendingWrites = new Set<Promise<unknown>>();
  // Background writes not started yet (see #deferWrite).
  #deferredWrites: Array<() => void> = [];
  readonly #startWaitingWrites = (): void => this.#startDeferredWrites();
  readonly #deadlines: DeadlineQueue;
  readonly #leaseHost: LeaseHost<T> | undefined;
  #savedDurationNs = 0;
  #savedTokens = 0;
  #byModel = new Map<string, ModelCounters>();
  #closed = false;

  constructor(options: ResponseCacheOptions<T>) {
    if (options === null || typeof options !== 'object' || !isCacheBackend(options.backend)) {
      throw new InvalidOptionError('backend', options?.backend, 'a CacheBackend (get, set, delete, has, clear, stats, close)');
    }
    const resolved = resolveCacheOptions(options);
    this.backend = options.backend;
    this.defaultTtl = resolved.defaultTtl;
    this.staleIfErrorTtl = resolved.staleIfErrorTtl;
    this.timeoutMs = resolved.timeoutMs;
    this.bulkTimeoutMs = resolved.bulkTimeoutMs;
    this.#deadlines = new DeadlineQueue(resolved.timeoutMs);
    this.namespace = resolved.namespace;
    this.#enableMetrics = resolved.enableMetrics;
    this.#logger = resolved.logger;
    this.#events = new CacheEvents<T>(resolved.logger);
    const levelCheck = (this.#logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
    // Building log contexts costs time on the hit path: only do it when someone listens.
    this.#debug = resolved.logger !== silentLogger && (typeof levelCheck !== 'function' || levelCheck.call(this.#logger, 'debug'));
    this.#savingsOf = resolved.savingsOf;
    this.#validate = resolved.validate;
    this.#checkExpiry = (this.backend as { [CHECKS_EXPIRY]?: unknown })[CHECKS_EXPIRY] !== true;
    this.leaseTtlMs = resolved.leaseTtlMs;
    const leases = resolved.crossProcessFlight ? this.backend.leases : undefined;
    this.crossProcessFlight = leases !== undefined;
    this.#leaseHost =
      leases === undefined
        ? undefined
        : {
            leases,
            backendName: this.backend.name,
            ttlMs: resolved.leaseTtlMs,
            bounded: (operation, name) => (operation instanceof Promise ? this.#bounded(operation, name) : operation),
            failed: (operation, key, error) => this.#failed(operation, key, error),
            reread: (key) => this.#reread(key),
          };
    this.backend.onEviction?.((key) => {
      if (this.#enableMetrics) this.#metrics.evictions++;
      if (this.#debug) this.#logger.debug({ event: 'cache_eviction', key: keyForLog(key) }, 'cache eviction');
      if (this.#events.listeners.eviction !== undefined) this.#events.emit('eviction', { key });
    });
  }

  /**
   * Calls listener, synchronously, on every `event` of this cache (see ResponseCacheEvents);
   * returns the function that removes it. A throwing listener is logged and never breaks the cache.
   */
  on<E extends keyof ResponseCacheEvents<T>>(event: E, listener: (payload: ResponseCacheEvents<T>[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The key of a request under this cache's namespace (see the standalone generateCacheKey). */
  generateCacheKey(request: CacheKeyRequest, options: Omit<CacheKeyOptions, 'namespace'> = {}): string {
    return generateCacheKey(request, this.namespace === undefined ? options : { ...options, namespace: this.namespace });
  }

  /** The stored value, or undefined on a miss (a failing backend is a miss too). */
  get(key: string): Promise<T | undefined> {
    // Not async: a hit from an in-process backend then costs one resolved promise, not a chain of them.
    try {
      const found = this.#lookup(key);
      return found instanceof Promise ? found.then(entryValue) : Promise.resolve(found?.value);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The stored entry with its metadata, or undefined on a miss. Counts a hit or a miss. */
  getEntry(key: string): Promise<CacheEntry<T> | undefined> {
    try {
      return Promise.resolve(this.#lookup(key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // The read path shared by get, getEntry and resolve: synchronous when the backend is, never
  // rejecting for a backend failure (that is a miss plus an error).
  #lookup(key: string, accept?: (entry: CacheEntry<T>) => boolean, model?: string): MaybePromise<CacheEntry<T> | undefined> {
    assertKey(key);
    this.#startDeferredWrites();
    this.#assertOpen('get');
    let pending: MaybePromise<CacheEntry | undefined>;
    try {
      pending = this.backend.get(key);
    } catch (error) {
      this.#failed('get', key, error);
      return this.#found(key, undefined, undefined, model);
    }
    if (!(pending instanceof Promise)) return this.#found(key, pending, accept, model);
    return this.#bounded(pending, 'get').then(
      (entry) => this.#found(key, entry, accept, model),
      (error: unknown) => {
        this.#failed('get', key, error);
        return this.#found(key, undefined, undefined, model);
      },
    );
  }

  #found(key: string, entry: CacheEntry | undefined, accept?: (entry: CacheEntry<T>) => boolean, model?: string): CacheEntry<T> | undefined {
    if (entry !== undefined && this.#checkExpiry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      // A backend that returned an expired entry: a miss, and the entry goes in the background
      // (unless it is kept for stale-if-error).
      if (isRetired(entry)) void this.#run('delete', key, () => this.backend.delete(key), false);
      entry = undefined;
    }
    if (entry !== undefined && this.#validate !== undefined && !this.#isValid(entry.value)) {
      this.#failed('get', key, new CacheDecodeError('the stored value failed validation (a foreign or outdated format)'));
      entry = undefined;
    }
    if (entry !== undefined && accept !== undefined && !accept(entry as CacheEntry<T>)) entry = undefined;
    if (entry === undefined) {
      this.#countMiss(key, model);
      return undefined;
    }
    if (this.#enableMetrics) this.#countHit(entry as CacheEntry<T>);
    if (this.#debug) this.#logger.debug({ event: 'cache_hit', key: keyForLog(key), accessCount: entry.accessCount }, 'cache hit');
    if (this.#events.listeners.hit !== undefined) this.#events.emit('hit', { key, entry: entry as CacheEntry<T> });
    return entry as CacheEntry<T>;
  }

  /**
   * Stores value under key with the given or default TTL; resolves false when nothing was stored
   * (a failing backend, or an entry the backend refused: larger than its bounds, or a value JSON
   * cannot carry). Throws InvalidOptionError for a bad TTL, BackendClosedError after close().
   */
  async set(key: string, value: T, options: SetOptions = {}): Promise<boolean> {
    assertKey(key);
    assertTtl(options.ttl, 'ttl');
    assertStaleTtl(options.staleIfErrorTtl, 'staleIfErrorTtl');
    this.#assertOpen('set');
    this.#startDeferredWrites();
    return (await this.#write(key, value, options)) === true;
  }

  // The write path of set and of background writes: never rejects; says what became of the write.
  // Synchronous when the backend is (a background write that lands at once is then forgotten at once).
  #write(key: string, value: T, options: SetOptions): MaybePromise<WriteOutcome> {
    const ttl = options.ttl === undefined ? this.defaultTtl : options.ttl;
    const staleIfErrorTtl = options.staleIfErrorTtl ?? this.staleIfErrorTtl;
    const entry = createEntry(value, {
      ttl,
      staleIfErrorTtl,
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    });
    let pending: MaybePromise<SetResult>;
    try {
      pending = this.backend.set(key, entry);
    } catch (error) {
      return this.#setFailed(key, error);
    }
    if (!(pending instanceof Promise)) return this.#afterSet(key, entry, ttl, pending);
    return this.#bounded(pending, 'set').then(
      (stored) => this.#afterSet(key, entry, ttl, stored),
      (error: unknown) => this.#setFailed(key, error),
    );
  }

  #setFailed(key: string, error: unknown): WriteFailure {
    this.#failed('set', key, error);
    const reason: WriteFailure = BackendClosedError.isInstance(error) ? 'closed' : 'error';
    this.#writeFailed(key, reason, error);
    return reason;
  }

  #afterSet(key: string, entry: CacheEntry<T>, ttl: number | null, stored: SetResult): WriteOutcome {
    if (stored === false) {
      this.#refused(key, entry.sizeBytes);
      return 'refused';
    }
    if (this.#enableMetrics) {
      this.#metrics.sets++;
      this.backend.recordCounters?.({ sets: 1 });
    }
    if (this.#debug) this.#logger.debug({ event: 'cache_set', key: keyForLog(key), ttl, sizeBytes: entry.sizeBytes }, 'cache set');
    if (this.#events.listeners.set !== undefined) this.#events.emit('set', { key, entry });
    return true;
  }

  /** Removes the entry; true when one was there (false also when the backend failed). */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    this.#assertOpen('delete');
    this.#startDeferredWrites();
    return this.#run('delete', key, () => this.backend.delete(key), false);
  }

  /** True when an unexpired entry is stored under key (false when the backend failed). Counts nothing. */
  async has(key: string): Promise<boolean> {
    assertKey(key);
    this.#assertOpen('has');
    this.#startDeferredWrites();
    return this.#run('has', key, () => this.backend.has(key), false);
  }

  /** Removes every entry of the backend's namespace (only the entries of options.namespace, when given); returns how many went (0 when the backend failed). */
  async clear(options?: ScopeOptions): Promise<number> {
    assertNamespace(options?.namespace, 'options.namespace');
    this.#assertOpen('clear');
    this.#startDeferredWrites();
    return this.#run('clear', undefined, () => this.backend.clear(options), 0, this.bulkTimeoutMs);
  }

  /** The stored value, or compute()'s (stored unless told not to). Identical concurrent misses run compute once. */
  async getOrSet(key: string, compute: () => T | Promise<T>, options: GetOrSetOptions<T> = {}): Promise<T> {
    return (await this.resolve(key, compute, options)).value;
  }

  /** Like getOrSet, and says whether the value was a hit, a miss, a coalesced miss or a forced refresh, and whether it was stored. */
  async resolve(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T> = {}): Promise<CacheResult<T>> {
    return this.resolveNow(key, compute, options);
  }

  /**
   * resolve() without a promise when the answer is known at once: a hit from a backend that answers
   * synchronously (memory) is the result itself; anything else (a miss, a join, an async backend)
   * is a promise, as from resolve(). Bad options and a closed cache throw here instead of
   * rejecting. For hot paths that would otherwise pay a promise chain per hit.
   */
  resolveNow(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T> = {}): CacheResult<T> | Promise<CacheResult<T>> {
    assertKey(key);
    assertTtl(options.ttl, 'ttl');
    assertStaleTtl(options.staleIfErrorTtl, 'staleIfErrorTtl');
    assertStaleTtl(options.maxStaleSeconds, 'maxStaleSeconds');
    const maxAge = options.maxAgeSeconds;
    if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
      throw new InvalidOptionError('maxAgeSeconds', maxAge, 'a finite number of seconds >= 0');
    }
    // A write still waiting for its turn lands first: a flight whose answer is stored is forgotten,
    // and a refresh's own write comes after it.
    this.#startDeferredWrites();
    if (options.forceRefresh) {
      this.#assertOpen('resolve');
      // A forced refresh is answered by compute, not the cache: it counts as a miss.
      this.#countMiss(key, options.model);
      return this.#compute(key, compute, options);
    }
    const joined = this.#inflight.get(key);
    if (joined) {
      this.#countMiss(key, options.model);
      return this.#join(key, joined, options);
    }
    const found = this.#readFor(key, options);
    if (found instanceof Promise) return found.then((entry) => this.#afterRead(key, entry, compute, options));
    return this.#afterRead(key, found, compute, options);
  }

  // After the lookup: a hit, or a join of a computation another caller started meanwhile, or a new one.
  #afterRead(
    key: string,
    entry: CacheEntry<T> | undefined,
    compute: (flight: FlightControl) => T | Promise<T>,
    options: GetOrSetOptions<T>,
  ): CacheResult<T> | Promise<CacheResult<T>> {
    if (entry !== undefined) return { value: entry.value, status: 'hit', entry };
    // Another caller may have started the computation while this one was reading.
    const late = this.#inflight.get(key);
    if (late) return this.#join(key, late, options);
    return this.#compute(key, compute, options);
  }

  // A miss or a forced refresh: lead a computation (its value as soon as compute has it; the write
  // goes on in the background), or answer with a stale entry when it fails.
  async #compute(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T>): Promise<CacheResult<T>> {
    // Requests that must not be answered from the cache (forceRefresh) or not write it (noStore)
    // never lead or join another process's computation.
    const leased = this.#leaseHost !== undefined && !options.forceRefresh && !options.noStore;
    const flight = this.#fly(key, compute, options, leased);
    try {
      const value = await flight.value;
      if (flight.remote !== undefined) return { value, status: 'hit', entry: flight.remote, remote: true };
      return { value, status: options.forceRefresh ? 'refresh' : 'miss', stored: flight.stored };
    } catch (error) {
      return this.#staleOr(key, error, options);
    }
  }

  // Reads an entry another process wrote while this one waited on its lease: the same rules as a
  // lookup (expiry, validate), not counted (the miss that led here already was). Rejects on a failure.
  async #reread(key: string, accept?: (entry: CacheEntry<T>) => boolean): Promise<CacheEntry<T> | undefined> {
    const pending = this.backend.get(key);
    const entry = (pending instanceof Promise ? await this.#bounded(pending, 'get') : pending) as CacheEntry<T> | undefined;
    if (entry === undefined) return undefined;
    if (this.#checkExpiry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) return undefined;
    if (this.#validate !== undefined && !this.#isValid(entry.value)) return undefined;
    return accept === undefined || accept(entry) ? entry : undefined;
  }

  // stale-if-error: a compute that failed is answered by an expired entry still within its window
  // (and within this call's maxStaleSeconds), when the failure qualifies; otherwise it rethrows.
  // A forced refresh never falls back: the caller said it does not want what is stored.
  async #staleOr(key: string, error: unknown, options: GetOrSetOptions<T>): Promise<CacheResult<T>> {
    const windowSeconds = options.maxStaleSeconds ?? this.staleIfErrorTtl;
    const getStale = this.backend.getStale;
    if (windowSeconds <= 0 || getStale === undefined || options.forceRefresh || this.#closed) throw error;
    if (options.staleIfError !== undefined && !safely(options.staleIfError, error)) throw error;
    const entry = (await this.#run('getStale', key, () => getStale.call(this.backend, key), undefined)) as CacheEntry<T> | undefined;
    const now = Date.now();
    // A fresh entry (another process stored one meanwhile) is not stale: the caller gets the error
    // it earned and the next call hits; a stale answer is never reported for a fresh entry.
    if (entry === undefined || entry.expiresAt === null || !isExpired(entry, now) || isRetired(entry, now)) throw error;
    if (now - entry.expiresAt > windowSeconds * 1000) throw error;
    if (this.#validate !== undefined && !this.#isValid(entry.value)) throw error;
    if (options.validate !== undefined && !safely(options.validate, entry.value)) throw error;
    if (this.#enableMetrics) {
      this.#metrics.stale++;
      this.backend.recordCounters?.({ stale: 1 });
    }
    this.#logger.warn(
      { event: 'cache_stale', key: keyForLog(key), expiredMs: now - entry.expiresAt },
      'compute failed; serving a stale entry (stale-if-error)',
    );
    return { value: entry.value, status: 'stale', entry };
  }

  // The lookup of resolve(): the per-call validate and maxAgeSeconds on top of the cache's own
  // rules, applied before the lookup is counted (a rejected entry is a miss, never a hit).
  #readFor(key: string, options: GetOrSetOptions<T>): MaybePromise<CacheEntry<T> | undefined> {
    const { validate, maxAgeSeconds, model } = options;
    if (validate === undefined && maxAgeSeconds === undefined) return this.#lookup(key, undefined, model);
    const accept = (entry: CacheEntry<T>): boolean => {
      if (validate !== undefined && !safely(validate, entry.value)) {
        this.#failed('get', key, new CacheDecodeError('the stored value is not what this call expects (a foreign or mismatched record)'));
        return false;
      }
      return maxAgeSeconds === undefined || Date.now() - entry.createdAt <= maxAgeSeconds * 1000;
    };
    return this.#lookup(key, accept, model);
  }

  /** This process's counters. */
  getMetrics(): ResponseCacheMetrics {
    this.#startDeferredWrites();
    const byModel: Record<string, ModelCounters> = {};
    for (const [model, counts] of this.#byModel) byModel[model] = { ...counts };
    return { ...this.#metrics.snapshot(), savedDurationNs: this.#savedDurationNs, savedTokens: this.#savedTokens, byModel };
  }

  /** Sets this process's counters back to zero (and the store's, for shared backends). */
  async resetMetrics(): Promise<void> {
    this.#startDeferredWrites();
    this.#metrics.reset();
    this.#savedDurationNs = this.#savedTokens = 0;
    this.#byModel.clear();
    const resetCounters = this.backend.resetCounters;
    if (resetCounters) await this.#run('resetCounters', undefined, () => resetCounters.call(this.backend), false);
  }

  /**
   * Metrics, backend size (only of options.namespace's entries, when given) and, for shared
   * backends, the store-wide counters (kept per store, not per namespace). Never throws for a
   * failing backend.
   */
  async getStats(options?: ScopeOptions): Promise<CacheStats> {
    assertNamespace(options?.namespace, 'options.namespace');
    this.#assertOpen('getStats');
    this.#startDeferredWrites();
    const backend = await this.#run('stats', undefined, () => this.backend.stats(options), undefined, this.bulkTimeoutMs);
    const readCounters = this.backend.readCounters;
    const shared = readCounters ? await this.#run('readCounters', undefined, () => readCounters.call(this.backend), undefined) : undefined;
    return { metrics: this.getMetrics(), backend, shared };
  }

  /** Resolves once every background write started by getOrSet/resolve has landed (or failed). */
  async flush(): Promise<void> {
    this.#startDeferredWrites();
    while (this.#pendingWrites.size > 0) await Promise.allSettled([...this.#pendingWrites]);
  }

  /** Lets pending writes land, then closes the backend; idempotent. Later calls reject with BackendClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    try {
      await this.backend.close();
    } catch (error) {
      this.#logger.error({ event: 'cache_error', operation: 'close', backend: this.backend.name, err: error }, 'cache close failed');
    }
  }

  #isValid(value: unknown): boolean {
    try {
      return (this.#validate as (value: unknown) => boolean)(value);
    } catch {
      return false;
    }
  }

  #countHit(entry: CacheEntry<T>): void {
    this.#metrics.hits++;
    const saved = this.#savingsOf?.(entry.value);
    const model = entry.model;
    const bucket = model === undefined ? undefined : this.#modelBucket(model);
    if (bucket !== undefined) bucket.hits++;
    if (saved) {
      const durationNs = saved.durationNs ?? 0;
      const tokens = saved.tokens ?? 0;
      this.#savedDurationNs += durationNs;
      this.#savedTokens += tokens;
      if (bucket !== undefined) {
        bucket.savedDurationNs += durationNs;
        bucket.savedTokens += tokens;
      }
      this.backend.recordCounters?.({ hits: 1, savedDurationNs: durationNs, savedTokens: tokens }, model);
    } else {
      this.backend.recordCounters?.({ hits: 1 }, model);
    }
  }

  // The counters of one model, created on first use.
  #modelBucket(model: string): ModelCounters {
    let bucket = this.#byModel.get(model);
    if (bucket === undefined) {
      bucket = { hits: 0, misses: 0, savedDurationNs: 0, savedTokens: 0 };
      this.#byModel.set(model, bucket);
    }
    return bucket;
  }

  #countMiss(key: string, model?: string): void {
    if (this.#enableMetrics) {
      this.#metrics.misses++;
      if (model !== undefined) this.#modelBucket(model).misses++;
      this.backend.recordCounters?.({ misses: 1 }, model);
    }
    if (this.#debug) this.#logger.debug({ event: 'cache_miss', key: keyForLog(key) }, 'cache miss');
    if (this.#events.listeners.miss !== undefined) this.#events.emit('miss', { key });
  }

  async #join(key: string, flight: Flight<T>, options: GetOrSetOptions<T>): Promise<CacheResult<T>> {
    if (this.#enableMetrics) this.#metrics.coalesced++;
    const onJoin = options.onJoin;
    if (onJoin !== undefined) {
      if (flight.published) onJoin(flight.handle);
      else flight.joiners.push(onJoin);
    }
    try {
      return { value: await flight.value, status: 'coalesced', stored: flight.stored };
    } catch (error) {
      return this.#staleOr(key, error, options);
    }
  }

  // The caller gets the value as soon as compute() has it; the write goes on in the background
  // from the event loop's next turn (#deferWrite), bounded by the deadline and tracked for flush()
  // and close(), so a slow or dead cache never delays an answer. The flight stays registered until
  // the write lands, so a caller arriving in between joins it instead of computing again. Only
  // writes are tracked: close() does not wait for computations still in flight (their answers are
  // then not stored).
  #fly(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T>, leased: boolean): Flight<T> {
    let settleValue: (value: Promise<T>) => void = () => {};
    const value = new Promise<T>((resolve) => {
      settleValue = resolve;
    });
    let settle: (stored: boolean) => void = () => {};
    const stored = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const flight: Flight<T> = { value, stored, handle: undefined, published: false, joiners: [] };
    const control: FlightControl = {
      publish: (handle) => {
        if (flight.published) return;
        flight.handle = handle;
        flight.published = true;
        for (const joiner of flight.joiners.splice(0)) joiner(handle);
      },
    };
    // Registered before compute runs, so a compute that publishes at once is already joinable.
    this.#inflight.set(key, flight);
    settleValue(leased ? this.#leadOrWait(key, flight, compute, control, options) : (async () => compute(control))());
    const forget = (): void => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
      // After the write landed (or nothing was to be written): another process's waiters now read
      // it. Tracked like a write, so close() lets the release go out before the backend closes.
      if (flight.lease !== undefined) {
        const releasing = flight.lease.release();
        this.#pendingWrites.add(releasing);
        void releasing.finally(() => this.#pendingWrites.delete(releasing));
      }
    };
    value.then(
      (computed) => {
        if (flight.remote !== undefined) {
          // Another process computed and stored it: nothing to write here.
          settle(true);
          return forget();
        }
        if (!this.#shouldWrite(key, computed, options)) {
          settle(false);
          return forget();
        }
        // Forgotten before `stored` settles, and at once when the write lands at once: a caller
        // told the value was stored, or arriving after that, reads it (a hit), not the flight.
        const landed = (outcome: WriteOutcome): WriteOutcome => {
          forget();
          settle(outcome === true);
          return outcome;
        };
        const write = this.#deferWrite(() => {
          let outcome: MaybePromise<WriteOutcome>;
          try {
            outcome = this.#write(key, computed, options);
          } catch (error) {
            // Started from a timer or from another caller's call: a throw must reach neither.
            outcome = this.#setFailed(key, error);
          }
          return outcome instanceof Promise ? outcome.then(landed) : landed(outcome);
        });
        this.#pendingWrites.add(write);
        void write.finally(() => this.#pendingWrites.delete(write));
      },
      () => {
        settle(false);
        forget();
      },
    );
    return flight;
  }

  // A background write starts on the event loop's next turn (setImmediate), so the callers'
  // continuations run first: a proxy writes its client's answer before the store's work (for the
  // memory store, serialising and copying the answer: ~45 us for a 3 KB generate answer here). Any
  // other use of this cache starts the writes still waiting first (#startDeferredWrites), so no
  // caller can tell they waited: a lookup after a miss hits, a set or a delete after it wins; and a
  // process that exits before that turn starts them as it exits (startOnExit).
  #deferWrite(run: () => MaybePromise<WriteOutcome>): Promise<WriteOutcome> {
    return new Promise<WriteOutcome>((resolve) => {
      this.#deferredWrites.push(() => resolve(run()));
      if (this.#deferredWrites.length !== 1) return;
      setImmediate(this.#startWaitingWrites);
      startOnExit(this.#startWaitingWrites);
    });
  }

  #startDeferredWrites(): void {
    if (this.#deferredWrites.length === 0) return;
    const starts = this.#deferredWrites;
    this.#deferredWrites = [];
    WAITING_FOR_TURN.delete(this.#startWaitingWrites);
    for (const start of starts) start();
  }

  // The cross-process turn of a flight: lead (holding the key's lease while computing), or take the
  // entry another process wrote meanwhile, or (any lease failure) compute without a lease.
  async #leadOrWait(
    key: string,
    flight: Flight<T>,
    compute: (flight: FlightControl) => T | Promise<T>,
    control: FlightControl,
    options: GetOrSetOptions<T>,
  ): Promise<T> {
    const host = this.#leaseHost as LeaseHost<T>;
    const { validate, maxAgeSeconds } = options;
    const accept =
      validate === undefined && maxAgeSeconds === undefined
        ? undefined
        : (entry: CacheEntry<T>): boolean =>
            (validate === undefined || safely(validate, entry.value)) && (maxAgeSeconds === undefined || Date.now() - entry.createdAt <= maxAgeSeconds * 1000);
    const turn = await takeTurn(accept === undefined ? host : { ...host, reread: (k) => this.#reread(k, accept) }, key);
    if (turn.kind === 'found') {
      flight.remote = turn.entry;
      if (this.#enableMetrics) this.#metrics.coalescedRemote++;
      if (this.#debug) this.#logger.debug({ event: 'cache_coalesced_remote', key: keyForLog(key) }, 'answered by another process');
      return turn.entry.value;
    }
    if (turn.kind === 'lead') flight.lease = turn.lease;
    return compute(control);
  }

  // Whether a computed value goes to the store; a throwing shouldStore is a failed write, never an
  // unhandled rejection. A cache closed meanwhile stores nothing (a writeFailed event says so).
  #shouldWrite(key: string, value: T, options: GetOrSetOptions<T>): boolean {
    if (options.noStore) return false;
    if (this.#closed) {
      this.#writeFailed(key, 'closed', undefined);
      return false;
    }
    try {
      return options.shouldStore === undefined || options.shouldStore(value);
    } catch (error) {
      this.#failed('set', key, error);
      this.#writeFailed(key, 'error', error);
      return false;
    }
  }

  async #run<R, F>(operation: string, key: string | undefined, call: () => MaybePromise<R>, fallback: F, deadlineMs?: number): Promise<R | F> {
    try {
      const pending = call();
      if (!(pending instanceof Promise)) return pending;
      return await (deadlineMs === undefined ? this.#bounded(pending, operation) : withDeadline(pending, deadlineMs, this.backend.name, operation));
    } catch (error) {
      this.#failed(operation, key, error);
      return fallback;
    }
  }

  // The deadline of one backend operation: the backend's own bound when it promises one within
  // timeoutMs (a timer per call costs measurably at high concurrency), else the shared queue.
  #bounded<R>(operation: Promise<R>, name: string): Promise<R> {
    const bound = this.backend.capabilities.settlesWithinMs;
    if (bound !== undefined && bound <= this.timeoutMs) return operation;
    return this.#deadlines.run(operation, this.backend.name, name) as Promise<R>;
  }

  #failed(operation: string, key: string | undefined, error: unknown): void {
    if (this.#enableMetrics) {
      this.#metrics.errors++;
      this.backend.recordCounters?.({ errors: 1 });
    }
    this.#logger.error(
      { event: 'cache_error', operation, backend: this.backend.name, ...(key ? { key: keyForLog(key) } : {}), err: error },
      `cache ${operation} failed; falling through`,
    );
    if (this.#events.listeners.error !== undefined) this.#events.emit('error', { operation, key, error });
  }

  // A write the backend refused (larger than its bounds, or a value JSON cannot carry): counted
  // with the errors, since the answer was not kept, but logged as a warning: nothing is broken.
  #refused(key: string, sizeBytes: number): void {
    if (this.#enableMetrics) {
      this.#metrics.errors++;
      this.backend.recordCounters?.({ errors: 1 });
    }
    this.#logger.warn(
      { event: 'cache_refused', backend: this.backend.name, key: keyForLog(key), sizeBytes },
      'cache set refused by the backend (larger than its bounds, or a value JSON cannot carry); not stored',
    );
    this.#writeFailed(key, 'refused', undefined);
  }

  #writeFailed(key: string, reason: WriteFailure, error: unknown): void {
    if (this.#events.listeners.writeFailed === undefined) return;
    this.#events.emit('writeFailed', error === undefined ? { key, reason } : { key, reason, error });
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new BackendClosedError('cache', operation);
  }
}

/**
 * A ResponseCache over the backend that openBackend() returns, for create*Cache factories: the
 * cache options are checked first (a bad one opens no connection or file), and the backend is
 * closed again when the cache cannot be built.
 */
export function createResponseCache<T>(options: CacheOptions<T>, openBackend: () => CacheBackend): ResponseCache<T> {
  resolveCacheOptions(options);
  const backend = openBackend();
  try {
    return new ResponseCache<T>({ ...options, backend });
  } catch (error) {
    void Promise.resolve()
      .then(() => backend.close())
      .catch(() => {});
    throw error;
  }
}

// The caches whose background writes still wait for their turn. A process that ends before that
// turn (process.exit() straight after an answer) starts them as it exits: a store that writes
// synchronously (memory, SQLite) then keeps the answer, as it did when writes started at once. One
// 'exit' listener for the process, added with the first deferred write.
const WAITING_FOR_TURN = new Set<() => void>();
let exitHooked = false;

function startOnExit(start: () => void): void {
  WAITING_FOR_TURN.add(start);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const waiting of [...WAITING_FOR_TURN]) waiting();
  });
}

function safely<T>(check: (value: T) => boolean, value: T): boolean {
  try {
    return check(value);
  } catch {
    return false;
  }
}
