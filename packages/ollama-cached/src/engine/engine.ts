import {
  assertStaleTtl,
  type CacheLogger,
  type CacheResult,
  type CacheStats,
  type GetOrSetOptions,
  generateCacheKey,
  InvalidOptionError,
  MissingPackageError,
  normalizeModelName,
  silentLogger,
  TinyLLMError,
} from '@tinyllm/cache-core';
import type { CacheInfo } from '../cache-info.js';
import { isAbortError, isOllamaOutage } from '../errors.js';
import { type OllamaResponseCache, savingsOf, validatesRecords } from '../ollama-response-cache.js';
import { StreamIterator } from '../stream-iterator.js';
import { Flight, FlightAbandonedError } from './flight.js';
import type { JsonObject } from './json.js';
import { ModelDigests } from './model-digests.js';
import { type AnswerStamp, type CachedEndpoint, type EndpointProfile, newStamp } from './profile.js';
import { profileOf } from './profiles.js';
import { type ReplaySource, replayStream } from './replay.js';
import { isStoredResponseFor, type StoredResponse } from './stored-response.js';
import type { Upstream } from './upstream.js';

/** Per-call cache controls (they never reach the model and never change the key). */
export interface CallControls {
  /** Skip the read, ask the model, and replace the entry with the fresh answer. Default false. */
  forceRefresh?: boolean;
  /** Do not store this answer (a stored answer is still served). Default false. */
  noStore?: boolean;
  /** TTL in seconds of the entry this call writes; null = never expires. Default: the cache's defaultTtl. */
  ttl?: number | null;
  /** Serve a stored answer only when it is at most this many seconds old. Default: any age. */
  maxAgeSeconds?: number;
  /** Answer only from the cache: a miss is answered with `kind: 'not-cached'`, the model is not asked. Default false. */
  onlyIfCached?: boolean;
  /**
   * stale-if-error for this call, in seconds: when the model fails, an answer expired at most this
   * long ago may be served (status 'stale'), and the entry this call writes is kept at least this
   * long past its TTL. 0 = no stale answer for this call. Default: the cache's staleIfErrorTtl.
   */
  staleIfErrorTtl?: number;
}

/** One question for the engine, as a front door planned it. */
export interface EngineCall {
  /** The endpoint. */
  readonly endpoint: CachedEndpoint;
  /** The request exactly as it goes to the model (the model's own shape, no `stream` field); never mutated. */
  readonly request: JsonObject;
  /** The model as the caller spelled it, echoed in answers. */
  readonly model: string | undefined;
  /** The caller wants the answer as a stream of chunks. */
  readonly stream: boolean;
  /** Per-call controls. */
  readonly controls?: CallControls;
  /** Namespace of the key, overriding the cache's own (a tenant). Default: the cache's. */
  readonly namespace?: string;
  /** The key, when the front door already has it (keyOf of this very request, remembered for a byte-identical body). Default: derived here. */
  readonly key?: string;
  /** Aborts the caller's wait (its client went away); the upstream call stops when nobody else waits for it. */
  readonly signal?: AbortSignal;
  /** Give stream readers their own copies of live chunks (for callers that may mutate them). Default true. */
  readonly copyChunks?: boolean;
  /** The request's bytes as the caller sent them, for an upstream that forwards them unchanged (the proxy). */
  readonly body?: Uint8Array;
  /**
   * A whole answer is handed over as the engine holds it (shared: never mutate it), with the stamp the
   * caller's copy would have had, instead of a deep copy: for a front door that serialises it at once
   * (the proxy). Default false.
   */
  readonly shared?: boolean;
}

/** The engine's answer: a whole response, a stream of chunks, or (only-if-cached) nothing. */
export type EngineAnswer =
  | {
      readonly kind: 'whole';
      /** The caller's own copy of the answer. */
      readonly response: JsonObject;
      readonly info: CacheInfo;
      /** The answer as the upstream returned it, when this call asked for it itself (status miss, refresh or bypass): a front door may hold the upstream's own bytes for it. */
      readonly origin?: JsonObject;
      /** With `shared`: the labels this caller's answer gets (its spelling of the model, a fresh identity); `response` is then not yet stamped. */
      readonly stamp?: AnswerStamp;
    }
  | {
      readonly kind: 'stream';
      readonly chunks: StreamIterator<JsonObject>;
      readonly info: CacheInfo;
      /** Set when the stream replays a stored answer: a front door may write the whole replay at once from it (see ReplaySource) and never touch `chunks`. */
      readonly replay?: ReplaySource;
    }
  | { readonly kind: 'not-cached'; readonly info: CacheInfo };

/** What the engine counted, for stats and metrics. */
export interface EngineCounters {
  /** Calls made on the engine. */
  requests: number;
  /** Calls that went to the model (misses, refreshes, bypasses). */
  upstreamCalls: number;
  /** Upstream calls that failed (HTTP errors, broken streams); a caller's own abort is not counted. */
  upstreamErrors: number;
  /** Calls that skipped the cache (cache off, load/unload requests, an unavailable cache). */
  bypassed: number;
  /** Calls answered without the cache because it failed (could not be opened, was closed meanwhile). */
  cacheFailures: number;
  /** Calls answered with an expired entry because the model failed (stale-if-error). */
  stale: number;
  /** Calls that went to the model uncached because bindModelDigest knew no digest for their model. */
  noDigest: number;
}

/** Options of CacheEngine. */
export interface CacheEngineOptions {
  /** How the model is reached. */
  upstream: Upstream;
  /** The cache, or a promise of it while it loads; undefined: every call bypasses. */
  cache?: OllamaResponseCache | Promise<OllamaResponseCache>;
  /** pino-compatible logger. @default silent */
  logger?: CacheLogger;
  /** Longest silence between two chunks of a stream being recorded, in ms (OllamaTimeoutError). @default none */
  idleTimeoutMs?: number;
  /** Bind keys to the model's digest from /api/tags (the upstream must offer tags()). @default false */
  bindModelDigest?: boolean;
  /** How long a lookup of the digests is trusted, in seconds. @default 10 */
  modelDigestTtl?: number;
}

const MAX_JOIN_ATTEMPTS = 3;
// Spellings of model names remembered (a handful in practice; forgotten all at once beyond this).
const MAX_MODEL_NAMES = 1024;

// What a streaming call learns while it resolves: the flight it follows (led or joined) and its hold on it.
interface StreamState {
  flight: Flight | undefined;
  release: () => void;
  led: boolean;
  /** Wakes the wait for a flight (set once the call waits). */
  found: () => void;
}
const NO_CALL_CONTROLS: CallControls = Object.freeze({});
const noop = (): void => {};

// Failures of the cache machinery itself (not of the model, not of the caller's input): they cost
// the caching, never the answer.
function isCacheFailure(error: unknown): boolean {
  if (!TinyLLMError.isInstance(error)) return false;
  return (
    error.code === 'TINYLLM_BACKEND_CLOSED' ||
    error.code === 'TINYLLM_BACKEND_ERROR' ||
    error.code === 'TINYLLM_CACHE_TIMEOUT' ||
    error.code === 'TINYLLM_DECODE_ERROR'
  );
}

function infoOf(result: CacheResult<StoredResponse>, key: string): CacheInfo {
  const info: CacheInfo = { status: result.status, key };
  if (result.status === 'hit' || result.status === 'stale') {
    if (result.status === 'hit' && result.remote) info.remote = true;
    if (result.entry) info.ageMs = Math.max(0, Date.now() - result.entry.createdAt);
    const saved = result.status === 'hit' ? savingsOf(result.value)?.durationNs : undefined;
    if (saved !== undefined) info.savedDurationNs = saved;
  } else if (result.stored !== undefined) {
    info.stored = result.stored;
  }
  return info;
}

/**
 * The one implementation of caching in front of the model, shared by every front door (the cached
 * Ollama client, the HTTP proxy): keys, lookup, single flight with live fan-out of streams,
 * recording, replay and the never-store rules. A failing cache never fails a call: it is counted,
 * logged once, and the call goes to the model.
 */
export class CacheEngine {
  /** What the engine counted. */
  readonly counters: EngineCounters = { requests: 0, upstreamCalls: 0, upstreamErrors: 0, bypassed: 0, cacheFailures: 0, stale: 0, noDigest: 0 };
  /** The model digests keys are bound to (bindModelDigest), else undefined. */
  readonly modelDigests: ModelDigests | undefined;
  readonly #upstream: Upstream;
  readonly #logger: CacheLogger;
  readonly #idleTimeoutMs: number | undefined;
  readonly #flights = new Set<Flight>();
  readonly #enabled: boolean;
  #cache: OllamaResponseCache | undefined;
  #cacheLoading: Promise<OllamaResponseCache> | undefined;
  #cacheFailureLogged = false;
  #closing = false;
  readonly #isOutage: (error: unknown) => boolean;
  readonly #modelNames = new Map<string, string>();

  constructor(options: CacheEngineOptions) {
    this.#upstream = options.upstream;
    this.#logger = options.logger ?? silentLogger;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#isOutage = (error) => (this.#upstream.isOutage ? this.#upstream.isOutage(error) : isOllamaOutage(error));
    this.modelDigests = this.#digestsFor(options);
    const source = options.cache;
    this.#enabled = source !== undefined;
    if (source instanceof Promise) {
      this.#cacheLoading = source.then((cache) => {
        this.#cache = cache;
        return cache;
      });
      this.#cacheLoading.catch(noop);
    } else {
      this.#cache = source;
    }
  }

  #digestsFor(options: CacheEngineOptions): ModelDigests | undefined {
    if (options.bindModelDigest === undefined || options.bindModelDigest === false) return undefined;
    if (options.bindModelDigest !== true) throw new InvalidOptionError('bindModelDigest', options.bindModelDigest, 'a boolean');
    const ttl = options.modelDigestTtl;
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > 86_400)) {
      throw new InvalidOptionError('modelDigestTtl', ttl, 'a number of seconds > 0 and at most 86400');
    }
    const upstream = this.#upstream;
    const tags = upstream.tags;
    if (tags === undefined) throw new InvalidOptionError('bindModelDigest', true, 'an upstream that can list models (/api/tags)');
    return new ModelDigests({
      fetchTags: (signal) => tags.call(upstream, signal),
      ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
      logger: this.#logger,
    });
  }

  /** The cache once it is available (undefined while it loads, or when caching is off). */
  get cache(): OllamaResponseCache | undefined {
    return this.#cache;
  }

  /** True unless the engine was built without a cache. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The cache, waiting for it to load; rejects with the error that kept it from loading. */
  loadCache(): Promise<OllamaResponseCache> {
    if (!this.#enabled) return Promise.reject(new Error('caching is off'));
    return this.#cache !== undefined ? Promise.resolve(this.#cache) : (this.#cacheLoading as Promise<OllamaResponseCache>);
  }

  /** The key a call is stored under (the cache's namespace unless the call names one), bound to modelDigest when given. */
  keyOf(call: EngineCall, cache: OllamaResponseCache, modelDigest?: string): string {
    const namespace = call.namespace ?? cache.namespace;
    // The request is exactly what the model receives (front doors lift the simple form first).
    const options: Parameters<typeof generateCacheKey>[1] = { endpoint: call.endpoint, exact: true };
    if (namespace !== undefined) options.namespace = namespace;
    if (modelDigest !== undefined) options.modelDigest = modelDigest;
    return generateCacheKey(call.request as { model: string }, options);
  }

  /** Answers a call: from the cache, from a flight already under way, or from the model. */
  run(call: EngineCall): Promise<EngineAnswer> {
    const answer = this.answer(call);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  }

  /**
   * run(), without a promise when the answer is known at once: a hit from a cache whose backend
   * answers synchronously (memory) is the answer itself, so a front door writes it in the same
   * tick; anything else is a promise. Never throws: failures reject the promise.
   */
  answer(call: EngineCall): EngineAnswer | Promise<EngineAnswer> {
    try {
      this.counters.requests++;
      const profile = profileOf(call.endpoint);
      if (!this.#enabled || this.#closing || profile.isLoadRequest(call.request)) return this.#bypass(call, profile);
      const cache = this.#cache;
      if (cache === undefined) return this.#whenLoaded(call, profile);
      return this.#withCache(cache, call, profile);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // The cache is still loading: wait for it, then answer as usual.
  async #whenLoaded(call: EngineCall, profile: EndpointProfile): Promise<EngineAnswer> {
    let cache: OllamaResponseCache;
    try {
      cache = await this.loadCache();
    } catch (error) {
      // A store that is not installed is a setup error the caller must see; any other store that
      // cannot be opened (a corrupt file, say) costs only the caching.
      if (MissingPackageError.isInstance(error)) throw error;
      return this.#cacheFailed(error, call, profile, 'open');
    }
    return this.#withCache(cache, call, profile);
  }

  // The key (bound to the model's digest with bindModelDigest), then the answer.
  #withCache(cache: OllamaResponseCache, call: EngineCall, profile: EndpointProfile): EngineAnswer | Promise<EngineAnswer> {
    if (this.modelDigests === undefined) return this.#attempt(cache, call.key ?? this.keyOf(call, cache), call, profile, 1);
    // Bound to the weights: without a digest no key is right, so the model answers uncached.
    const found = typeof call.request.model === 'string' ? this.modelDigests.digestOf(call.request.model) : undefined;
    if (found instanceof Promise) return found.then((digest) => this.#withDigest(cache, digest, call, profile));
    return this.#withDigest(cache, found, call, profile);
  }

  #withDigest(cache: OllamaResponseCache, digest: string | undefined, call: EngineCall, profile: EndpointProfile): EngineAnswer | Promise<EngineAnswer> {
    if (digest === undefined) {
      this.counters.noDigest++;
      return this.#bypass(call, profile);
    }
    // A key the front door remembered was derived without the digest.
    return this.#attempt(cache, this.keyOf(call, cache, digest), call, profile, 1);
  }

  // One try at answering from the cache or a flight; a flight that was abandoned under us is tried again.
  #attempt(cache: OllamaResponseCache, key: string, call: EngineCall, profile: EndpointProfile, attempt: number): EngineAnswer | Promise<EngineAnswer> {
    let answer: EngineAnswer | Promise<EngineAnswer>;
    try {
      if (call.controls?.onlyIfCached) answer = this.#fromCacheOnly(cache, key, call, profile);
      else answer = call.stream ? this.#streaming(cache, key, call, profile) : this.#whole(cache, key, call, profile);
    } catch (error) {
      return this.#afterFailure(error, cache, key, call, profile, attempt);
    }
    if (!(answer instanceof Promise)) return answer;
    return answer.catch((error: unknown) => this.#afterFailure(error, cache, key, call, profile, attempt));
  }

  #afterFailure(error: unknown, cache: OllamaResponseCache, key: string, call: EngineCall, profile: EndpointProfile, attempt: number): Promise<EngineAnswer> {
    if (isCacheFailure(error)) return this.#cacheFailed(error, call, profile, 'lookup');
    // Everyone waiting on the flight we joined went away: try again (lead a new call, or hit).
    if (!(error instanceof FlightAbandonedError)) return Promise.reject(error);
    if (attempt >= MAX_JOIN_ATTEMPTS || this.#closing) return this.#bypass(call, profile);
    return Promise.resolve(this.#attempt(cache, key, call, profile, attempt + 1));
  }

  // One literal of one shape on every call (a spread of the rules plus optional fields cost about
  // 1.5 us a hit: ResponseCache's reads of it went megamorphic). Undefined means the default.
  #options(
    call: EngineCall,
    profile: EndpointProfile,
    cache: OllamaResponseCache,
    onJoin: (handle: unknown) => void,
    staleIfError: (error: unknown) => boolean,
  ): GetOrSetOptions<StoredResponse> {
    const controls = call.controls ?? NO_CALL_CONTROLS;
    const rules = rulesOf(profile, cache);
    const model = call.request.model;
    const staleTtl = controls.staleIfErrorTtl;
    if (staleTtl !== undefined) assertStaleTtl(staleTtl, 'staleIfErrorTtl');
    return {
      shouldStore: rules.shouldStore,
      validate: rules.validate,
      forceRefresh: controls.forceRefresh === true,
      noStore: controls.noStore === true,
      ttl: controls.ttl,
      maxAgeSeconds: controls.maxAgeSeconds,
      // stale-if-error: a request's own window (how stale it accepts, and at least how long the entry it writes is kept).
      maxStaleSeconds: staleTtl,
      staleIfErrorTtl: staleTtl === undefined ? undefined : Math.max(staleTtl, cache.staleIfErrorTtl),
      staleIfError: staleTtl !== 0 && (staleTtl !== undefined || cache.staleIfErrorTtl > 0) ? staleIfError : undefined,
      // Normalised, so `llama3` and `llama3:latest` are one model in listings and per-model figures.
      model: typeof model === 'string' ? this.#modelNameOf(model) : undefined,
      endpoint: call.endpoint,
      onJoin,
    };
  }

  // Model names as per-model figures and listings key them, remembered: a hit costs no string work.
  #modelNameOf(model: string): string {
    let name = this.#modelNames.get(model);
    if (name === undefined) {
      if (this.#modelNames.size >= MAX_MODEL_NAMES) this.#modelNames.clear();
      name = normalizeModelName(model);
      this.#modelNames.set(model, name);
    }
    return name;
  }

  async #fromCacheOnly(cache: OllamaResponseCache, key: string, call: EngineCall, profile: EndpointProfile): Promise<EngineAnswer> {
    const entry = await cache.getEntry(key);
    const maxAge = call.controls?.maxAgeSeconds;
    const fresh = entry !== undefined && (maxAge === undefined || Date.now() - entry.createdAt <= maxAge * 1000);
    if (entry === undefined || !fresh || !isStoredResponseFor(entry.value, profile)) return { kind: 'not-cached', info: { status: 'miss', key } };
    const info = infoOf({ value: entry.value, status: 'hit', entry }, key);
    if (call.stream && profile.streams) return replayAnswer(profile, entry.value, call.model, info);
    return wholeAnswer(call, profile, entry.value.response, info, undefined);
  }

  #whole(cache: OllamaResponseCache, key: string, call: EngineCall, profile: EndpointProfile): EngineAnswer | Promise<EngineAnswer> {
    // An abandoned flight is on its way out of the registry: waiting for it ends in
    // FlightAbandonedError, and run() asks again.
    const held = { release: noop };
    const options = this.#options(
      call,
      profile,
      cache,
      (handle) => {
        if (handle instanceof Flight && !handle.abandoned) held.release = handle.hold();
      },
      this.#isOutage,
    );
    let resolving: CacheResult<StoredResponse> | Promise<CacheResult<StoredResponse>>;
    try {
      resolving = cache.resolveNow(
        key,
        (control) => {
          const flight = this.#lead(call, profile, false);
          held.release = flight.hold();
          control.publish(flight);
          return flight.completion;
        },
        options,
      );
    } catch (error) {
      held.release();
      throw error;
    }
    // A hit answered at once: nothing to wait for, so no abort to listen for.
    if (!(resolving instanceof Promise)) return this.#wholeOf(resolving, key, call, profile);
    return this.#wholeLater(resolving, held, key, call, profile);
  }

  async #wholeLater(
    resolving: Promise<CacheResult<StoredResponse>>,
    held: { release: () => void },
    key: string,
    call: EngineCall,
    profile: EndpointProfile,
  ): Promise<EngineAnswer> {
    try {
      return this.#wholeOf(await untilAborted(resolving, call.signal), key, call, profile);
    } finally {
      held.release();
    }
  }

  #wholeOf(result: CacheResult<StoredResponse>, key: string, call: EngineCall, profile: EndpointProfile): EngineAnswer {
    this.#noteResult(result.status, call);
    const info = infoOf(result, key);
    const origin = result.status === 'miss' || result.status === 'refresh' ? result.value.response : undefined;
    return wholeAnswer(call, profile, result.value.response, info, origin);
  }

  #streaming(cache: OllamaResponseCache, key: string, call: EngineCall, profile: EndpointProfile): EngineAnswer | Promise<EngineAnswer> {
    const state: StreamState = { flight: undefined, release: noop, led: false, found: noop };
    const follow = (handle: Flight, leading: boolean): void => {
      if (state.flight !== undefined) return;
      state.flight = handle;
      state.led = leading;
      state.release = handle.hold();
      state.found();
    };
    // Only before any of the answer reached a caller: a stream that broke off mid-way cannot be
    // swapped for another answer.
    const options = this.#options(
      call,
      profile,
      cache,
      (handle) => {
        if (handle instanceof Flight && !handle.abandoned) follow(handle, false);
      },
      (error) => this.#isOutage(error) && state.flight?.started !== true,
    );
    const resolving = cache.resolveNow(
      key,
      (control) => {
        const leading = this.#lead(call, profile, profile.streams);
        follow(leading, true);
        control.publish(leading);
        return leading.completion;
      },
      options,
    );
    // A hit answered at once: replay it, with nothing to wait for.
    if (!(resolving instanceof Promise)) return this.#replayOf(resolving, key, call, profile);
    return this.#streamLater(state, resolving, key, call, profile);
  }

  // A stored answer for a streaming call: replayed as chunks (or whole, where the endpoint does not stream).
  #replayOf(result: CacheResult<StoredResponse>, key: string, call: EngineCall, profile: EndpointProfile): EngineAnswer {
    this.#noteResult(result.status, call);
    const info = infoOf(result, key);
    if (!profile.streams) return wholeAnswer(call, profile, result.value.response, info, undefined);
    return replayAnswer(profile, result.value, call.model, info);
  }

  async #streamLater(
    state: StreamState,
    resolving: Promise<CacheResult<StoredResponse>>,
    key: string,
    call: EngineCall,
    profile: EndpointProfile,
  ): Promise<EngineAnswer> {
    resolving.catch(noop);
    const following =
      state.flight !== undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            state.found = resolve;
          });
    const first = await untilAborted(Promise.race([following.then(() => undefined), resolving]), call.signal).catch((error: unknown) => {
      state.release();
      throw error;
    });
    // A hit, or a flight someone else started without a live handle: replay the stored answer.
    if (first !== undefined && state.flight === undefined) return this.#replayOf(first, key, call, profile);
    const live = state.flight as Flight;
    const { release, led } = state;
    try {
      await untilAborted(live.opened, call.signal);
    } catch (error) {
      release();
      // The model failed before answering: stale-if-error may have an expired answer for it.
      const stale = isAbortError(error) ? undefined : await untilAborted(resolving, call.signal).catch(() => undefined);
      if (stale?.status !== 'stale') throw error;
      return this.#replayOf(stale, key, call, profile);
    }
    if (led) this.#noteResult(call.controls?.forceRefresh ? 'refresh' : 'miss', call);
    const status = led ? (call.controls?.forceRefresh ? 'refresh' : 'miss') : 'coalesced';
    const info: CacheInfo = {
      status,
      key,
      stored: resolving.then(
        (result) => result.stored ?? false,
        () => false,
      ),
    };
    if (!profile.streams) {
      const stored = await live.result(call.signal, release);
      return wholeAnswer(call, profile, stored.response, info, undefined);
    }
    // The leader reads the model's chunks as they are; a joiner gets its own labels on them.
    const readOptions = {
      beforeDone: () => resolving.catch(noop),
      copy: call.copyChunks !== false,
      held: release,
      ...(led ? {} : { stamp: newStamp(call.model) }),
    };
    const chunks = new StreamIterator<JsonObject>((signal) => live.read(signal, readOptions), release);
    return { kind: 'stream', chunks, info };
  }

  // Counts stale answers; after a miss, the digests are checked again in the background (a
  // re-pulled model shows on the next request).
  #noteResult(status: string, call: EngineCall): void {
    if (status === 'stale') this.counters.stale++;
    else if ((status === 'miss' || status === 'refresh') && this.modelDigests !== undefined && typeof call.request.model === 'string') {
      this.modelDigests.noteMiss();
    }
  }

  // Starts the upstream call for a flight this call leads.
  #lead(call: EngineCall, profile: EndpointProfile, live: boolean): Flight {
    this.counters.upstreamCalls++;
    const upstream = this.#upstream;
    const flight = live
      ? Flight.stream(profile, (signal) => upstream.stream(call, signal), { idleTimeoutMs: this.#idleTimeoutMs, host: upstream.host })
      : Flight.whole(profile, (signal) => upstream.whole(call, signal));
    this.#flights.add(flight);
    flight.completion.then(
      () => this.#flights.delete(flight),
      (error: unknown) => {
        this.#flights.delete(flight);
        if (!(error instanceof FlightAbandonedError) && !isAbortError(error)) this.counters.upstreamErrors++;
      },
    );
    // close() or abortAll() came while this call was being planned: stop this flight too.
    if (this.#closing) flight.abandon();
    return flight;
  }

  // The cache failed (closed meanwhile, could not be opened): log it once, count it, and answer
  // from the model as if there were no cache.
  #cacheFailed(error: unknown, call: EngineCall, profile: EndpointProfile, operation: string): Promise<EngineAnswer> {
    this.counters.cacheFailures++;
    if (!this.#cacheFailureLogged && !this.#closing) {
      this.#cacheFailureLogged = true;
      this.#logger.error({ event: 'cache_error', operation, err: error }, 'cache unavailable; answering from the model');
    }
    return this.#bypass(call, profile);
  }

  async #bypass(call: EngineCall, profile: EndpointProfile): Promise<EngineAnswer> {
    this.counters.bypassed++;
    this.counters.upstreamCalls++;
    const info: CacheInfo = { status: 'bypass', key: '' };
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onAbort, { once: true });
    const counters = this.counters;
    try {
      if (!call.stream || !profile.streams) {
        const response = await this.#upstream.whole(call, controller.signal);
        return { kind: 'whole', response, info, origin: response };
      }
      const upstream = await this.#upstream.stream(call, controller.signal);
      const chunks = new StreamIterator<JsonObject>(
        async function* () {
          try {
            yield* upstream;
          } catch (error) {
            if (!isAbortError(error)) counters.upstreamErrors++;
            throw error;
          }
        },
        () => upstream.abort(),
      );
      return { kind: 'stream', chunks, info };
    } catch (error) {
      if (!isAbortError(error)) this.counters.upstreamErrors++;
      throw error;
    } finally {
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The cache's stats (undefined when caching is off or the cache failed to load). Never throws. */
  async cacheStats(): Promise<CacheStats | undefined> {
    if (!this.#enabled) return undefined;
    try {
      const cache = await this.loadCache();
      return this.#closing ? { metrics: cache.getMetrics(), backend: undefined, shared: undefined } : await cache.getStats();
    } catch {
      return undefined;
    }
  }

  /** Stops every upstream call in flight (their callers see an AbortError; nothing is stored). */
  abortAll(): void {
    for (const flight of this.#flights) flight.abandon();
  }

  /** Stops flights in flight and lets later calls bypass the cache; idempotent. Does not close the cache. */
  stop(): void {
    this.#closing = true;
    for (const flight of this.#flights) flight.abandon();
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.#closing;
  }
}

// A whole answer for one caller: its own stamped copy, or (shared) the held answer and the stamp.
function wholeAnswer(call: EngineCall, profile: EndpointProfile, response: JsonObject, info: CacheInfo, origin: JsonObject | undefined): EngineAnswer {
  const stamp = newStamp(call.model);
  if (call.shared) return origin === undefined ? { kind: 'whole', response, info, stamp } : { kind: 'whole', response, info, stamp, origin };
  const copy = profile.freshAnswer(response, stamp);
  return origin === undefined ? { kind: 'whole', response: copy, info } : { kind: 'whole', response: copy, info, origin };
}

// The never-store and shape rules of an endpoint, built once per profile (they run on every call).
// Over a cache that validates every record itself (ollamaResponseCache), the shape rule only checks
// that the record is this endpoint's: the whole record was checked already, before the hit counted.
type Rules = Pick<GetOrSetOptions<StoredResponse>, 'shouldStore' | 'validate'>;
const RULES = new WeakMap<EndpointProfile, { full: Rules; light: Rules }>();
function rulesOf(profile: EndpointProfile, cache: OllamaResponseCache): Rules {
  let rules = RULES.get(profile);
  if (rules === undefined) {
    const shouldStore = (value: StoredResponse): boolean => profile.isStorable(value.response);
    rules = {
      full: { shouldStore, validate: (value) => isStoredResponseFor(value, profile) },
      light: { shouldStore, validate: (value) => value.endpoint === profile.endpoint },
    };
    RULES.set(profile, rules);
  }
  return validatesRecords(cache) ? rules.light : rules.full;
}

// A streaming hit: the replayed chunks, and what they are made from for a front door that writes them at once.
function replayAnswer(profile: EndpointProfile, stored: StoredResponse, model: string | undefined, info: CacheInfo): EngineAnswer {
  return { kind: 'stream', chunks: replayStream(profile, stored, model), info, replay: { stored, model } };
}

// Waits for a promise unless the signal aborts first (then rejects with the signal's reason).
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
