import type { BackendStats, CacheBackend, MaybePromise, SharedCounters } from './contract.js';
import { assertTtl, createEntry } from './create-entry.js';
import { DeadlineQueue, withDeadline } from './deadline.js';
import type { CacheEntry } from './entry.js';
import { BackendClosedError, CacheDecodeError, InvalidKeyError, InvalidOptionError } from './errors.js';
import { assertNamespace, type CacheKeyOptions, type CacheKeyRequest, generateCacheKey } from './keys.js';
import { type CacheLogger, keyForLog, silentLogger } from './logger.js';
import { type CacheMetrics, MetricsRecorder } from './metrics.js';

/** What a hit saved upstream: time in ns and tokens. */
export interface Savings {
  /** Upstream time the hit avoided, in ns (Ollama's total_duration). */
  durationNs?: number;
  /** Tokens the hit avoided generating or reading (eval_count + prompt_eval_count). */
  tokens?: number;
}

/** Options of ResponseCache; every one but backend has a default. */
export interface ResponseCacheOptions<T = unknown> {
  /** Where entries live. */
  backend: CacheBackend;
  /** TTL of entries set without one, in seconds; null = no expiry. Default 3600. */
  defaultTtl?: number | null;
  /** Count hits, misses, sets, evictions, errors and coalesced calls. Default true. */
  enableMetrics?: boolean;
  /** Deadline of every backend operation, in ms; past it the operation counts as an error and the call falls through. Default 250. */
  timeoutMs?: number;
  /** A pino-compatible logger. Default: silent. */
  logger?: CacheLogger;
  /** Tenant or app written into every key this cache derives (generateCacheKey). Default: none. */
  namespace?: string;
  /** Reads what a hit on a stored value saved (for getStats); default: nothing counted. */
  savingsOf?: (value: T) => Savings | undefined;
  /** Checks a stored value before it is served; a value that fails (a foreign or outdated format) is a miss plus an error. Default: every value passes. */
  validate?: (value: unknown) => boolean;
}

/** Per-call options of set. */
export interface SetOptions {
  /** TTL of this entry in seconds; null = no expiry; default: the cache's defaultTtl. */
  ttl?: number | null;
  /** The model that produced the value (kept as entry metadata). */
  model?: string;
}

/** Per-call options of getOrSet and resolve. */
export interface GetOrSetOptions<T> extends SetOptions {
  /** Skip the read and compute a fresh value, which replaces the stored one. Default false. */
  forceRefresh?: boolean;
  /** Do not store the computed value. Default false. */
  noStore?: boolean;
  /** Decides whether a computed value may be stored (e.g. only complete answers). Default: always. */
  shouldStore?: (value: T) => boolean;
  /**
   * Checks a stored value for this call (on top of the cache's own validate), e.g. that a record
   * under a chat key is a chat answer. A value that fails is a miss plus an error, and the computed
   * value overwrites it. Default: every value passes.
   */
  validate?: (value: T) => boolean;
  /** Serve a stored entry only when it is at most this many seconds old; an older one is a miss (not an error) and is replaced. Default: any age. */
  maxAgeSeconds?: number;
  /**
   * Called when this call joins a computation already in flight, with the handle its leader
   * published (see FlightControl.publish), as soon as there is one. Lets a joiner follow the
   * leader's progress (a live stream) instead of waiting for the final value. Default: none.
   */
  onJoin?: (handle: unknown) => void;
}

/** What compute() receives from resolve(): a way to share its progress with callers that join it. */
export interface FlightControl {
  /** Hands joiners (their onJoin) a handle on this computation, e.g. a live stream they can read from. */
  publish(handle: unknown): void;
}

// One computation in flight: its value, the outcome of its write, and what joiners can follow.
interface InFlight<T> {
  readonly value: Promise<T>;
  readonly stored: Promise<boolean>;
  handle: unknown;
  published: boolean;
  readonly joiners: Array<(handle: unknown) => void>;
}

/** How a resolve() call was answered. */
export type CacheStatus = 'hit' | 'miss' | 'coalesced' | 'refresh';

/** The value of a resolve() call and how it was obtained. */
export interface CacheResult<T> {
  /** The value, from the cache or from compute. */
  value: T;
  /** hit: from the cache; miss: computed here; coalesced: shared another caller's computation; refresh: forced recomputation. */
  status: CacheStatus;
  /** The stored entry on a hit (its metadata: createdAt, accessCount...). */
  entry?: CacheEntry<T>;
  /**
   * On miss, refresh and coalesced: resolves true once the computed value landed in the store,
   * false when it was not stored (noStore, shouldStore declined, the write failed or the cache
   * closed). Never rejects.
   */
  stored?: Promise<boolean>;
}

/** CacheMetrics plus what hits saved. */
export interface ResponseCacheMetrics extends CacheMetrics {
  /** Upstream time hits saved in this process, in ns. */
  savedDurationNs: number;
  /** Tokens hits saved in this process. */
  savedTokens: number;
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

// setTimeout's limit; a longer delay would fire at once.
const MAX_TIMER_MS = 2_147_483_647;

function safely<T>(check: (value: T) => boolean, value: T): boolean {
  try {
    return check(value);
  } catch {
    return false;
  }
}

const entryValue = <T>(entry: CacheEntry<T> | undefined): T | undefined => entry?.value;

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new InvalidKeyError(key);
}

/**
 * The cache every package uses: a backend behind a deadline, fail-open error handling, TTLs in
 * seconds, metrics and single flight. A failing backend never fails the caller: the lookup is a
 * miss (or the write is skipped), `errors` grows and the logger hears about it.
 */
export class ResponseCache<T = unknown> {
  /** The storage backend. */
  readonly backend: CacheBackend;
  /** TTL in seconds of entries set without one; null = no expiry. */
  readonly defaultTtl: number | null;
  /** Deadline of each backend operation, in ms. */
  readonly timeoutMs: number;
  /** Namespace written into keys derived by generateCacheKey. */
  readonly namespace: string | undefined;
  readonly #metrics = new MetricsRecorder();
  readonly #enableMetrics: boolean;
  readonly #logger: CacheLogger;
  readonly #debug: boolean;
  readonly #savingsOf: ((value: T) => Savings | undefined) | undefined;
  readonly #validate: ((value: unknown) => boolean) | undefined;
  readonly #inflight = new Map<string, InFlight<T>>();
  readonly #pendingWrites = new Set<Promise<unknown>>();
  readonly #deadlines: DeadlineQueue;
  #savedDurationNs = 0;
  #savedTokens = 0;
  #closed = false;

  constructor(options: ResponseCacheOptions<T>) {
    if (options === null || typeof options !== 'object' || options.backend === null || typeof options.backend !== 'object') {
      throw new InvalidOptionError('backend', options?.backend, 'a CacheBackend');
    }
    const { defaultTtl = 3600, timeoutMs = 250, enableMetrics = true } = options;
    assertTtl(defaultTtl, 'defaultTtl');
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
      throw new InvalidOptionError('timeoutMs', timeoutMs, `a number of milliseconds > 0 and <= ${MAX_TIMER_MS}`);
    }
    assertNamespace(options.namespace);
    this.backend = options.backend;
    this.defaultTtl = defaultTtl;
    this.timeoutMs = timeoutMs;
    this.#deadlines = new DeadlineQueue(timeoutMs);
    this.namespace = options.namespace;
    this.#enableMetrics = enableMetrics !== false;
    this.#logger = options.logger ?? silentLogger;
    const levelCheck = (this.#logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
    // Building log contexts costs time on the hit path: only do it when someone listens.
    this.#debug = this.#logger !== silentLogger && (typeof levelCheck !== 'function' || levelCheck.call(this.#logger, 'debug'));
    this.#savingsOf = options.savingsOf;
    this.#validate = options.validate;
    this.backend.onEviction?.((key) => {
      if (this.#enableMetrics) this.#metrics.evictions++;
      if (this.#debug) this.#logger.debug({ event: 'cache_eviction', key: keyForLog(key) }, 'cache eviction');
    });
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
  #lookup(key: string, accept?: (entry: CacheEntry<T>) => boolean): MaybePromise<CacheEntry<T> | undefined> {
    assertKey(key);
    this.#assertOpen('get');
    let pending: MaybePromise<CacheEntry | undefined>;
    try {
      pending = this.backend.get(key);
    } catch (error) {
      this.#failed('get', key, error);
      return this.#found(key, undefined);
    }
    if (!(pending instanceof Promise)) return this.#found(key, pending, accept);
    return this.#bounded(pending, 'get').then(
      (entry) => this.#found(key, entry, accept),
      (error: unknown) => {
        this.#failed('get', key, error);
        return this.#found(key, undefined);
      },
    );
  }

  #found(key: string, entry: CacheEntry | undefined, accept?: (entry: CacheEntry<T>) => boolean): CacheEntry<T> | undefined {
    if (entry !== undefined && this.#validate !== undefined && !this.#isValid(entry.value)) {
      this.#failed('get', key, new CacheDecodeError('the stored value failed validation (a foreign or outdated format)'));
      entry = undefined;
    }
    if (entry !== undefined && accept !== undefined && !accept(entry as CacheEntry<T>)) entry = undefined;
    if (entry === undefined) {
      if (this.#enableMetrics) {
        this.#metrics.misses++;
        this.backend.recordCounters?.({ misses: 1 });
      }
      if (this.#debug) this.#logger.debug({ event: 'cache_miss', key: keyForLog(key) }, 'cache miss');
      return undefined;
    }
    if (this.#enableMetrics) this.#countHit(entry as CacheEntry<T>);
    if (this.#debug) this.#logger.debug({ event: 'cache_hit', key: keyForLog(key), accessCount: entry.accessCount }, 'cache hit');
    return entry as CacheEntry<T>;
  }

  /** Stores value under key with the given or default TTL; resolves false when nothing was stored (TTL 0, or a failing backend). */
  async set(key: string, value: T, options: SetOptions = {}): Promise<boolean> {
    assertKey(key);
    assertTtl(options.ttl, 'ttl');
    this.#assertOpen('set');
    const ttl = options.ttl === undefined ? this.defaultTtl : options.ttl;
    let entry: CacheEntry<T>;
    try {
      entry = createEntry(value, { ttl, ...(options.model === undefined ? {} : { model: options.model }) });
    } catch (error) {
      // A value that cannot be serialised (a cycle, a BigInt) is skipped like any failed write.
      this.#failed('set', key, error);
      return false;
    }
    const ok = await this.#run<unknown, false>('set', key, () => this.backend.set(key, entry), false, true);
    if (!ok || ttl === 0) return false;
    if (this.#enableMetrics) {
      this.#metrics.sets++;
      this.backend.recordCounters?.({ sets: 1 });
    }
    if (this.#debug) this.#logger.debug({ event: 'cache_set', key: keyForLog(key), ttl, sizeBytes: entry.sizeBytes }, 'cache set');
    return true;
  }

  /** Removes the entry; true when one was there (false also when the backend failed). */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    this.#assertOpen('delete');
    return this.#run('delete', key, () => this.backend.delete(key), false);
  }

  /** True when an unexpired entry is stored under key (false when the backend failed). Counts nothing. */
  async has(key: string): Promise<boolean> {
    assertKey(key);
    this.#assertOpen('has');
    return this.#run('has', key, () => this.backend.has(key), false);
  }

  /** Removes every entry of the backend's namespace; returns how many went (0 when the backend failed). */
  async clear(): Promise<number> {
    this.#assertOpen('clear');
    // Clearing can take longer than a lookup (a SCAN over a large store): allow it 20 deadlines.
    return this.#run('clear', '', () => this.backend.clear(), 0, undefined, this.timeoutMs * 20);
  }

  /** The stored value, or compute()'s (stored unless told not to). Identical concurrent misses run compute once. */
  async getOrSet(key: string, compute: () => T | Promise<T>, options: GetOrSetOptions<T> = {}): Promise<T> {
    return (await this.resolve(key, compute, options)).value;
  }

  /** Like getOrSet, and says whether the value was a hit, a miss, a coalesced miss or a forced refresh. */
  async resolve(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T> = {}): Promise<CacheResult<T>> {
    assertKey(key);
    assertTtl(options.ttl, 'ttl');
    const maxAge = options.maxAgeSeconds;
    if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
      throw new InvalidOptionError('maxAgeSeconds', maxAge, 'a finite number of seconds >= 0');
    }
    if (!options.forceRefresh) {
      const joined = this.#inflight.get(key);
      if (joined) {
        if (this.#enableMetrics) {
          this.#metrics.misses++;
          this.backend.recordCounters?.({ misses: 1 });
        }
        return this.#join(joined, options);
      }
      const entry = await this.#readFor(key, options);
      if (entry !== undefined) return { value: entry.value, status: 'hit', entry };
      // Another caller may have started the computation while this one was reading.
      const late = this.#inflight.get(key);
      if (late) return this.#join(late, options);
    } else {
      this.#assertOpen('resolve');
      // A forced refresh is answered by compute, not the cache: it counts as a miss.
      if (this.#enableMetrics) {
        this.#metrics.misses++;
        this.backend.recordCounters?.({ misses: 1 });
      }
    }
    const flight = this.#fly(key, compute, options);
    return { value: await flight.value, status: options.forceRefresh ? 'refresh' : 'miss', stored: flight.stored };
  }

  // The lookup of resolve(): the per-call validate and maxAgeSeconds on top of the cache's own
  // rules, applied before the lookup is counted (a rejected entry is a miss, never a hit).
  #readFor(key: string, options: GetOrSetOptions<T>): Promise<CacheEntry<T> | undefined> {
    const { validate, maxAgeSeconds } = options;
    if (validate === undefined && maxAgeSeconds === undefined) return this.getEntry(key);
    const accept = (entry: CacheEntry<T>): boolean => {
      if (validate !== undefined && !safely(validate, entry.value)) {
        this.#failed('get', key, new CacheDecodeError('the stored value is not what this call expects (a foreign or mismatched record)'));
        return false;
      }
      return maxAgeSeconds === undefined || Date.now() - entry.createdAt <= maxAgeSeconds * 1000;
    };
    try {
      return Promise.resolve(this.#lookup(key, accept));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** This process's counters. */
  getMetrics(): ResponseCacheMetrics {
    return { ...this.#metrics.snapshot(), savedDurationNs: this.#savedDurationNs, savedTokens: this.#savedTokens };
  }

  /** Sets this process's counters back to zero (and the store's, for shared backends). */
  async resetMetrics(): Promise<void> {
    this.#metrics.reset();
    this.#savedDurationNs = this.#savedTokens = 0;
    const resetCounters = this.backend.resetCounters;
    if (resetCounters) await this.#run('resetCounters', '', () => resetCounters.call(this.backend), false);
  }

  /** Metrics, backend size and, for shared backends, the store-wide counters. Never throws for a failing backend. */
  async getStats(): Promise<CacheStats> {
    this.#assertOpen('getStats');
    const backend = await this.#run('stats', '', () => this.backend.stats(), undefined, undefined, this.timeoutMs * 20);
    const readCounters = this.backend.readCounters;
    const shared = readCounters ? await this.#run('readCounters', '', () => readCounters.call(this.backend), undefined) : undefined;
    return { metrics: this.getMetrics(), backend, shared };
  }

  /** Resolves once every background write started by getOrSet/resolve has landed (or failed). */
  async flush(): Promise<void> {
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
    if (saved) {
      this.#savedDurationNs += saved.durationNs ?? 0;
      this.#savedTokens += saved.tokens ?? 0;
      this.backend.recordCounters?.({ hits: 1, savedDurationNs: saved.durationNs ?? 0, savedTokens: saved.tokens ?? 0 });
    } else {
      this.backend.recordCounters?.({ hits: 1 });
    }
  }

  async #join(flight: InFlight<T>, options: GetOrSetOptions<T>): Promise<CacheResult<T>> {
    if (this.#enableMetrics) this.#metrics.coalesced++;
    const onJoin = options.onJoin;
    if (onJoin !== undefined) {
      if (flight.published) onJoin(flight.handle);
      else flight.joiners.push(onJoin);
    }
    return { value: await flight.value, status: 'coalesced', stored: flight.stored };
  }

  // The caller gets the value as soon as compute() has it; the write goes on in the background
  // (bounded by the deadline, tracked for flush() and close()), so a slow or dead cache never
  // delays an answer. The flight stays registered until the write lands, so a caller arriving
  // in between joins it instead of computing again. Only writes are tracked: close() does not
  // wait for computations still in flight (their answers are then not stored).
  #fly(key: string, compute: (flight: FlightControl) => T | Promise<T>, options: GetOrSetOptions<T>): InFlight<T> {
    let settleStored: (stored: boolean) => void = () => {};
    const stored = new Promise<boolean>((resolve) => {
      settleStored = resolve;
    });
    let settleValue: (value: Promise<T>) => void = () => {};
    const value = new Promise<T>((resolve) => {
      settleValue = resolve;
    });
    const flight: InFlight<T> = { value, stored, handle: undefined, published: false, joiners: [] };
    const control: FlightControl = {
      publish: (handle) => {
        if (flight.published) return;
        flight.handle = handle;
        flight.published = true;
        for (const joiner of flight.joiners.splice(0)) joiner(handle);
      },
    };
    // Registered before compute runs, so a compute that publishes synchronously is already joinable.
    this.#inflight.set(key, flight);
    settleValue((async () => compute(control))());
    const forget = (): void => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    value.then(
      (result) => {
        if (!this.#shouldWrite(key, result, options)) {
          settleStored(false);
          return forget();
        }
        const write = this.set(key, result, options).catch((error: unknown) => {
          this.#failed('set', key, error);
          return false;
        });
        this.#pendingWrites.add(write);
        void write
          .then(settleStored, () => settleStored(false))
          .finally(() => {
            this.#pendingWrites.delete(write);
            forget();
          });
      },
      () => {
        settleStored(false);
        forget();
      },
    );
    return flight;
  }

  // Whether a computed value goes to the store; a throwing shouldStore is a failed write, never an
  // unhandled rejection.
  #shouldWrite(key: string, value: T, options: GetOrSetOptions<T>): boolean {
    if (options.noStore || this.#closed) return false;
    try {
      return options.shouldStore === undefined || options.shouldStore(value);
    } catch (error) {
      this.#failed('set', key, error);
      return false;
    }
  }

  async #run<R, F>(operation: string, key: string, call: () => MaybePromise<R>, fallback: F, success?: R, deadlineMs?: number): Promise<R | F> {
    try {
      const pending = call();
      const result =
        pending instanceof Promise
          ? await (deadlineMs === undefined ? this.#bounded(pending, operation) : withDeadline(pending, deadlineMs, this.backend.name, operation))
          : pending;
      return success === undefined ? result : success;
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

  #failed(operation: string, key: string, error: unknown): void {
    if (this.#enableMetrics) {
      this.#metrics.errors++;
      this.backend.recordCounters?.({ errors: 1 });
    }
    this.#logger.error(
      { event: 'cache_error', operation, backend: this.backend.name, ...(key ? { key: keyForLog(key) } : {}), err: error },
      `cache ${operation} failed; falling through`,
    );
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new BackendClosedError('cache', operation);
  }
}
