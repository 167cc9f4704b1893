import {
  assertTtl,
  type CacheBackend,
  CacheDecodeError,
  type CacheKeyRequest,
  type CacheLogger,
  type CacheResult,
  type CacheStats,
  InvalidOptionError,
  InvalidRequestError,
  MissingPackageError,
  silentLogger,
  TinyLLMError,
  toOllamaRequest,
} from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import {
  type AbortableAsyncIterator,
  type ChatRequest,
  type ChatResponse,
  type CopyRequest,
  type CreateRequest,
  type DeleteRequest,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type EmbedRequest,
  type EmbedResponse,
  type GenerateRequest,
  type GenerateResponse,
  type ListResponse,
  Ollama,
  type ProgressResponse,
  type PullRequest,
  type PushRequest,
  type ShowRequest,
  type ShowResponse,
  type StatusResponse,
  type SystemOneRequest,
  type SystemOneResponse,
  type VersionResponse,
  type WebFetchRequest,
  type WebFetchResponse,
  type WebSearchRequest,
  type WebSearchResponse,
} from 'ollama';
import { attachCacheInfo, type CacheInfo } from './cache-info.js';
import { isAbortError, toOllamaError } from './errors.js';
import { withBase64Images } from './images.js';
import { DEFAULT_OLLAMA_HOST, OllamaClient } from './ollama-client.js';
import { type OllamaResponseCache, ollamaResponseCache } from './ollama-response-cache.js';
import { FlightAbandonedError, replayStream, StreamRecorder, type UpstreamStream } from './recording.js';
import { buildStats, type CachedClientStats, emptyCounters } from './stats.js';
import { type CachedEndpoint, freshResponse, isStorable, isStoredResponse, type JsonObject, type StoredResponse, savingsOf } from './stored-response.js';
import { asAbortable, StreamIterator } from './stream-iterator.js';

/** Per-call cache controls; they never reach Ollama and never change the key. */
export interface CacheControls {
  /** Skip the cache read, ask the model, and replace the entry with the fresh answer. Default false. */
  forceRefresh?: boolean;
  /** TTL in seconds of the entry this call writes (null: never expires). Default: the cache's defaultTtl. */
  cacheTtl?: number | null;
  /** Do not store this call's answer (a stored answer is still served). Default false. */
  noStore?: boolean;
}

/** The seed's simple-form fields, accepted next to Ollama's (max_tokens → options.num_predict, json_mode → format "json"). */
export interface SimpleFormFields {
  /** Sampling temperature (options.temperature). */
  temperature?: number;
  /** Most tokens to generate (options.num_predict). */
  max_tokens?: number;
  /** Ask for JSON output (format "json"). */
  json_mode?: boolean;
}

/** A generate request: ollama-js's GenerateRequest or the simple form, plus cache controls. */
export type CachedGenerateRequest = GenerateRequest & SimpleFormFields & CacheControls;
/** A chat request: ollama-js's ChatRequest (simple-form fields allowed), plus cache controls. */
export type CachedChatRequest = ChatRequest & SimpleFormFields & CacheControls;
/** An embed request plus cache controls. */
export type CachedEmbedRequest = EmbedRequest & CacheControls;
/** A legacy embeddings request plus cache controls. */
export type CachedEmbeddingsRequest = EmbeddingsRequest & CacheControls;

/** Options of CachedOllamaClient. */
export interface CachedOllamaClientOptions {
  /** The client that talks to Ollama: an OllamaClient or the official package's Ollama. Default: new OllamaClient(). */
  client?: Ollama;
  /** Where answers are cached: a ResponseCache, a CacheBackend, or a promise of a ResponseCache. Default: a new in-memory cache. */
  cache?: OllamaResponseCache | CacheBackend | Promise<OllamaResponseCache>;
  /** close() also closes the cache. Default: true only when this client created the cache. */
  ownsCache?: boolean;
  /** false: every call goes straight to the inner client (status 'bypass'). Default true. */
  enableCache?: boolean;
  /** TTL in seconds of entries written without cacheTtl, for a cache this client creates (null: none). Default 3600. */
  defaultTtl?: number | null;
  /** Most entries of the in-memory cache this client creates. Default 1000. */
  maxSize?: number;
  /** Byte budget of the in-memory cache this client creates. Default: none. */
  maxBytes?: number;
  /** Tenant/app written into every key, for a cache this client creates. Default: none. */
  namespace?: string;
  /** pino-compatible logger for a cache this client creates. Default: silent. */
  logger?: CacheLogger;
  /** Deadline of each cache operation in ms, for a cache this client creates (past it: a miss). Default 250. */
  cacheTimeoutMs?: number;
}

const LEGACY_EMBEDDINGS_FIELD = '__tinyllm_endpoint';
const MAX_JOIN_ATTEMPTS = 3;
const noop = (): void => {};

function isResponseCache(value: unknown): value is OllamaResponseCache {
  const v = value as Partial<Record<'resolve' | 'getMetrics' | 'generateCacheKey', unknown>> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.resolve === 'function' && typeof v.getMetrics === 'function' && typeof v.generateCacheKey === 'function'
  );
}

function isPromiseLike(value: unknown): value is Promise<OllamaResponseCache> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function hostOf(client: Ollama): string {
  const explicit = (client as unknown as { host?: unknown }).host;
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const configured = (client as unknown as { config?: { host?: unknown } }).config?.host;
  return typeof configured === 'string' && configured !== '' ? configured : DEFAULT_OLLAMA_HOST;
}

function deepCopy(value: JsonObject): JsonObject {
  try {
    return structuredClone(value);
  } catch {
    return JSON.parse(JSON.stringify(value)) as JsonObject;
  }
}

// Empty prompt/messages/input only load (or with keep_alive 0 unload) the model: never cached.
function isLoadRequest(endpoint: CachedEndpoint, request: JsonObject): boolean {
  switch (endpoint) {
    case 'generate':
      return (typeof request.prompt !== 'string' || request.prompt === '') && !(Array.isArray(request.images) && request.images.length > 0);
    case 'chat':
      return !Array.isArray(request.messages) || request.messages.length === 0;
    case 'embed':
      return request.input === undefined || request.input === '' || (Array.isArray(request.input) && request.input.length === 0);
    case 'embeddings':
      return typeof request.prompt !== 'string' || request.prompt === '';
  }
}

// Failures of the cache machinery itself (not of Ollama, not of the caller's input): they cost the
// caching, never the answer.
function isCacheFailure(error: unknown): boolean {
  if (!TinyLLMError.isInstance(error)) return false;
  return (
    error.code === 'TINYLLM_BACKEND_CLOSED' ||
    error.code === 'TINYLLM_BACKEND_ERROR' ||
    error.code === 'TINYLLM_CACHE_TIMEOUT' ||
    error.code === 'TINYLLM_DECODE_ERROR'
  );
}

function unreadableEntry(): CacheDecodeError {
  return new CacheDecodeError('the cache returned a value that is not a stored Ollama response');
}

// An OllamaClient's timeoutMs also bounds the silence between two chunks of a stream it records.
function idleTimeoutOf(inner: Ollama): number | undefined {
  return inner instanceof OllamaClient ? inner.timeoutMs : undefined;
}

// ollama-js keeps every stream in a list until it ends with done, so a failed or aborted one stays
// forever (ollama-js#295): drop ours once it has settled either way.
function forgetStream(inner: Ollama, stream: UpstreamStream): void {
  const ongoing = (inner as unknown as { ongoingStreamedRequests?: unknown }).ongoingStreamedRequests;
  if (!Array.isArray(ongoing)) return;
  const index = ongoing.indexOf(stream);
  if (index >= 0) ongoing.splice(index, 1);
}

interface CallPlan {
  endpoint: CachedEndpoint;
  /** The request sent upstream (Ollama shape, images base64, no stream field, no controls). */
  sent: JsonObject;
  /** The model as the caller spelled it (echoed in answers). */
  model: string | undefined;
  stream: boolean;
  forceRefresh: boolean;
  noStore: boolean;
  ttl: number | null | undefined;
}

/**
 * An `Ollama` (official client) whose generate, chat, embed and embeddings answers are cached;
 * every other method goes to the inner client. Same overloads as ollama-js (stream: true → an
 * AbortableAsyncIterator), plus the seed's simple request form and the per-call controls
 * forceRefresh, cacheTtl and noStore. One entry serves streaming and non-streaming callers;
 * identical concurrent misses make one upstream call; a failing cache never fails a call.
 */
export class CachedOllamaClient extends Ollama {
  readonly #inner: Ollama;
  readonly #host: string;
  readonly #enabled: boolean;
  readonly #ownsCache: boolean;
  readonly #counters = emptyCounters();
  readonly #recorders = new Set<StreamRecorder>();
  readonly #logger: CacheLogger;
  #abortGeneration = 0;
  #cacheFailureLogged = false;
  #cache: OllamaResponseCache | undefined;
  #cacheLoading: Promise<OllamaResponseCache> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: CachedOllamaClientOptions = {}) {
    const inner = options.client ?? new OllamaClient();
    const host = hostOf(inner);
    super({ host });
    if (!(inner instanceof Ollama) && typeof (inner as Partial<Ollama>).generate !== 'function') {
      throw new InvalidOptionError('client', inner, 'an Ollama instance (from the ollama package) or an OllamaClient');
    }
    this.#inner = inner;
    this.#host = host;
    this.#logger = options.logger ?? silentLogger;
    this.#enabled = options.enableCache !== false;
    const source = options.cache;
    this.#ownsCache = options.ownsCache ?? source === undefined;
    if (!this.#enabled) return;
    if (source === undefined) {
      const memory = new MemoryBackend({
        ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
        ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      });
      this.#cache = this.#wrapBackend(memory, options);
    } else if (isResponseCache(source)) {
      this.#cache = source;
    } else if (isPromiseLike(source)) {
      this.#cacheLoading = Promise.resolve(source).then((cache) => {
        this.#cache = cache;
        return cache;
      });
      this.#cacheLoading.catch(noop);
    } else if (typeof source === 'object' && source !== null && typeof (source as CacheBackend).get === 'function') {
      this.#cache = this.#wrapBackend(source, options);
    } else {
      throw new InvalidOptionError('cache', source, 'a ResponseCache, a CacheBackend or a promise of a ResponseCache');
    }
  }

  #wrapBackend(backend: CacheBackend, options: CachedOllamaClientOptions): OllamaResponseCache {
    return ollamaResponseCache(backend, options);
  }

  /** The client requests go to. */
  get inner(): Ollama {
    return this.#inner;
  }

  /** The Ollama address of the inner client. */
  get host(): string {
    return this.#host;
  }

  /** True unless the client was created with enableCache: false. */
  get cacheEnabled(): boolean {
    return this.#enabled;
  }

  /** The cache once it is available (undefined while a redis/sqlite cache loads, or when disabled). */
  get responseCache(): OllamaResponseCache | undefined {
    return this.#cache;
  }

  /** Resolves once the cache is loaded; rejects with its error (e.g. MissingPackageError) for fail-fast setup. */
  async ready(): Promise<void> {
    if (this.#enabled) await this.#getCache();
  }

  #getCache(): OllamaResponseCache | Promise<OllamaResponseCache> {
    return this.#cache ?? (this.#cacheLoading as Promise<OllamaResponseCache>);
  }

  /** Generates a completion (cached); stream: true gives an AbortableAsyncIterator of chunks. */
  override generate(request: CachedGenerateRequest & { stream: true }): Promise<AbortableAsyncIterator<GenerateResponse>>;
  override generate(request: CachedGenerateRequest & { stream?: false }): Promise<GenerateResponse>;
  override async generate(request: CachedGenerateRequest): Promise<GenerateResponse | AbortableAsyncIterator<GenerateResponse>> {
    return (await this.#call('generate', request)) as unknown as GenerateResponse | AbortableAsyncIterator<GenerateResponse>;
  }

  /** Chats with a model (cached); stream: true gives an AbortableAsyncIterator of chunks. */
  override chat(request: CachedChatRequest & { stream: true }): Promise<AbortableAsyncIterator<ChatResponse>>;
  override chat(request: CachedChatRequest & { stream?: false }): Promise<ChatResponse>;
  override async chat(request: CachedChatRequest): Promise<ChatResponse | AbortableAsyncIterator<ChatResponse>> {
    return (await this.#call('chat', request)) as unknown as ChatResponse | AbortableAsyncIterator<ChatResponse>;
  }

  /** Embeds input into vectors (cached). */
  override async embed(request: CachedEmbedRequest): Promise<EmbedResponse> {
    return (await this.#call('embed', request)) as unknown as EmbedResponse;
  }

  /** Legacy /api/embeddings (cached, under keys of its own). */
  override async embeddings(request: CachedEmbeddingsRequest): Promise<EmbeddingsResponse> {
    return (await this.#call('embeddings', request)) as unknown as EmbeddingsResponse;
  }

  async #call(endpoint: CachedEndpoint, request: object): Promise<object> {
    this.#counters.requests++;
    const plan = await this.#plan(endpoint, request);
    if (!this.#enabled || this.#closing || isLoadRequest(endpoint, plan.sent)) return this.#bypass(plan);
    let cache: OllamaResponseCache;
    try {
      cache = await this.#getCache();
    } catch (error) {
      // A store that is not installed is a setup error the caller must see; any other store that
      // cannot be opened (a corrupt file, say) costs only the caching.
      if (MissingPackageError.isInstance(error)) throw error;
      return this.#cacheFailed(error, plan);
    }
    const keyRequest = (endpoint === 'embeddings' ? { ...plan.sent, [LEGACY_EMBEDDINGS_FIELD]: 'embeddings' } : plan.sent) as CacheKeyRequest;
    const key = cache.generateCacheKey(keyRequest, { endpoint: endpoint === 'embeddings' ? 'embed' : endpoint });
    for (let attempt = 1; ; attempt++) {
      try {
        return plan.stream ? await this.#streaming(cache, key, plan) : await this.#whole(cache, key, plan);
      } catch (error) {
        if (isCacheFailure(error)) return this.#cacheFailed(error, plan);
        // The caller whose upstream call we joined went away: try again (lead a new call, or hit).
        if (!(error instanceof FlightAbandonedError)) throw error;
        if (attempt >= MAX_JOIN_ATTEMPTS || this.#closing) return this.#bypass(plan);
      }
    }
  }

  // The cache itself failed (closed meanwhile, could not be opened): log it once, count it, and
  // answer from the model as if there were no cache.
  #cacheFailed(error: unknown, plan: CallPlan): Promise<object> {
    this.#counters.cacheFailures++;
    if (!this.#cacheFailureLogged && !this.#closing) {
      this.#cacheFailureLogged = true;
      this.#logger.error({ event: 'cache_error', operation: 'open', err: error }, 'cache unavailable; answering from the model');
    }
    return this.#bypass(plan);
  }

  async #plan(endpoint: CachedEndpoint, request: object): Promise<CallPlan> {
    if (request === null || typeof request !== 'object') throw new InvalidRequestError('request', 'expected an object');
    const raw = request as JsonObject;
    assertTtl(raw.cacheTtl, 'cacheTtl');
    let sent = toOllamaRequest(raw as CacheKeyRequest);
    if (endpoint === 'generate' || endpoint === 'chat') sent = await withBase64Images(sent);
    // toOllamaRequest made a new top-level object; nested objects are still the caller's, which is
    // fine for keying. Upstream calls get a deep copy (ollama-js mutates what it is given).
    delete sent.stream;
    return {
      endpoint,
      sent,
      model: typeof raw.model === 'string' ? raw.model : undefined,
      stream: (endpoint === 'generate' || endpoint === 'chat') && raw.stream === true,
      forceRefresh: raw.forceRefresh === true,
      noStore: raw.noStore === true,
      ttl: raw.cacheTtl as number | null | undefined,
    };
  }

  #options(plan: CallPlan) {
    return {
      forceRefresh: plan.forceRefresh,
      noStore: plan.noStore,
      shouldStore: isStorable,
      ...(plan.ttl === undefined ? {} : { ttl: plan.ttl }),
      ...(typeof plan.sent.model === 'string' ? { model: plan.sent.model } : {}),
    };
  }

  #info(result: CacheResult<StoredResponse>, key: string): CacheInfo {
    const info: CacheInfo = { status: result.status, key };
    if (result.status === 'hit') {
      if (result.entry) info.ageMs = Math.max(0, Date.now() - result.entry.createdAt);
      const saved = savingsOf(result.value)?.durationNs;
      if (saved !== undefined) info.savedDurationNs = saved;
    }
    return info;
  }

  async #whole(cache: OllamaResponseCache, key: string, plan: CallPlan): Promise<object> {
    const result = await cache.resolve(key, () => this.#fetchWhole(plan), this.#options(plan));
    if (result.status === 'hit' && !isStoredResponse(result.value)) return this.#cacheFailed(unreadableEntry(), plan);
    return attachCacheInfo(freshResponse(result.value, plan.model), this.#info(result, key));
  }

  async #streaming(cache: OllamaResponseCache, key: string, plan: CallPlan): Promise<object> {
    let onLive: (recorder: StreamRecorder) => void = noop;
    const live = new Promise<StreamRecorder>((resolve) => {
      onLive = resolve;
    });
    const resolved = cache.resolve(
      key,
      async () => {
        const generation = this.#abortGeneration;
        const upstream = await this.#openStream(plan);
        const recorder = new StreamRecorder(upstream, plan.endpoint, this.#host, idleTimeoutOf(this.#inner));
        this.#recorders.add(recorder);
        const settled = (): void => {
          this.#recorders.delete(recorder);
          forgetStream(this.#inner, upstream);
        };
        recorder.completion.then(settled, (error: unknown) => {
          settled();
          if (!(error instanceof FlightAbandonedError) && !isAbortError(error)) this.#counters.upstreamErrors++;
        });
        // close() or abort() came while the headers were on their way: stop this stream too.
        if (this.#closing || generation !== this.#abortGeneration) recorder.abandon();
        onLive(recorder);
        return recorder.completion;
      },
      this.#options(plan),
    );
    resolved.catch(noop);
    const first = await Promise.race([live.then((recorder) => ({ recorder })), resolved.then((result) => ({ result }))]);
    if ('recorder' in first) {
      const { recorder } = first;
      const stream = new StreamIterator<JsonObject>(
        (signal) => recorder.read(signal, () => resolved.catch(noop)),
        () => recorder.abandon(),
      );
      return asAbortable(attachCacheInfo(stream, { status: plan.forceRefresh ? 'refresh' : 'miss', key }));
    }
    if (first.result.status === 'hit' && !isStoredResponse(first.result.value)) return this.#cacheFailed(unreadableEntry(), plan);
    return asAbortable(attachCacheInfo(replayStream(first.result.value, plan.model), this.#info(first.result, key)));
  }

  async #fetchWhole(plan: CallPlan): Promise<StoredResponse> {
    this.#counters.upstreamCalls++;
    const request = { ...deepCopy(plan.sent), stream: false as const };
    try {
      let response: object;
      switch (plan.endpoint) {
        case 'generate':
          response = await this.#inner.generate(request as unknown as GenerateRequest & { stream: false });
          break;
        case 'chat':
          response = await this.#inner.chat(request as unknown as ChatRequest & { stream: false });
          break;
        case 'embed':
          response = await this.#inner.embed(deepCopy(plan.sent) as unknown as EmbedRequest);
          break;
        case 'embeddings':
          response = await this.#inner.embeddings(deepCopy(plan.sent) as unknown as EmbeddingsRequest);
          break;
      }
      return { v: 1, endpoint: plan.endpoint, response: response as JsonObject };
    } catch (error) {
      this.#counters.upstreamErrors++;
      throw toOllamaError(error, this.#host);
    }
  }

  async #openStream(plan: CallPlan): Promise<UpstreamStream> {
    this.#counters.upstreamCalls++;
    const request = { ...deepCopy(plan.sent), stream: true as const };
    try {
      return plan.endpoint === 'chat'
        ? await this.#inner.chat(request as unknown as ChatRequest & { stream: true })
        : await this.#inner.generate(request as unknown as GenerateRequest & { stream: true });
    } catch (error) {
      this.#counters.upstreamErrors++;
      throw toOllamaError(error, this.#host);
    }
  }

  async #bypass(plan: CallPlan): Promise<object> {
    this.#counters.bypassed++;
    const info: CacheInfo = { status: 'bypass', key: '' };
    if (!plan.stream) return attachCacheInfo((await this.#fetchWhole(plan)).response, info);
    const upstream = await this.#openStream(plan);
    const host = this.#host;
    const counters = this.#counters;
    const stream = new StreamIterator<JsonObject>(
      async function* () {
        try {
          yield* upstream as AsyncIterable<JsonObject>;
        } catch (error) {
          if (!isAbortError(error)) counters.upstreamErrors++;
          throw toOllamaError(error, host, true);
        }
      },
      () => upstream.abort(),
    );
    return asAbortable(attachCacheInfo(stream, info));
  }

  /** Counters, store size and what hits saved (see CachedClientStats). Never throws for a failing cache. */
  async getStats(): Promise<CachedClientStats> {
    let cacheStats: CacheStats | undefined;
    if (this.#enabled) {
      try {
        const cache = await this.#getCache();
        cacheStats = this.#closing ? { metrics: cache.getMetrics(), backend: undefined, shared: undefined } : await cache.getStats();
      } catch {
        cacheStats = undefined;
      }
    }
    return buildStats(cacheStats, this.#counters);
  }

  /** Removes every entry of the cache's namespace; resolves how many went (0 when disabled). */
  async clearCache(): Promise<number> {
    if (!this.#enabled) return 0;
    return (await this.#getCache()).clear();
  }

  /** Resolves once the cache writes started so far have landed (or failed); writes never delay answers. */
  async flush(): Promise<void> {
    if (!this.#enabled) return;
    const cache = await this.#getCache();
    await (cache as { flush?: () => Promise<void> }).flush?.();
  }

  /**
   * Stops in-flight streams, lets pending writes land, then closes the cache if this client
   * created it (never a cache or backend passed in). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const recorder of this.#recorders) recorder.abandon();
      if (!this.#enabled) return;
      try {
        const cache = await this.#getCache();
        if (this.#ownsCache) await cache.close();
        else await (cache as { flush?: () => Promise<void> }).flush?.();
      } catch {
        // a cache that failed to load has nothing to close
      }
    })();
    return this.#closing;
  }

  /** Aborts every stream in flight: this client's recordings and the inner client's requests. */
  override abort(): void {
    this.#abortGeneration++;
    for (const recorder of this.#recorders) recorder.abandon();
    this.#inner.abort();
  }

  async #delegate<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toOllamaError(error, this.#host);
    }
  }

  /** Delegates to the inner client. */
  override create(request: CreateRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override create(request: CreateRequest & { stream?: false }): Promise<ProgressResponse>;
  override create(request: CreateRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.create(request as CreateRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override pull(request: PullRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override pull(request: PullRequest & { stream?: false }): Promise<ProgressResponse>;
  override pull(request: PullRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.pull(request as PullRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override push(request: PushRequest & { stream: true }): Promise<AbortableAsyncIterator<ProgressResponse>>;
  override push(request: PushRequest & { stream?: false }): Promise<ProgressResponse>;
  override push(request: PushRequest): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    return this.#delegate(() => this.#inner.push(request as PushRequest & { stream?: false }));
  }

  /** Delegates to the inner client. */
  override delete(request: DeleteRequest): Promise<StatusResponse> {
    return this.#delegate(() => this.#inner.delete(request));
  }

  /** Delegates to the inner client. */
  override copy(request: CopyRequest): Promise<StatusResponse> {
    return this.#delegate(() => this.#inner.copy(request));
  }

  /** Delegates to the inner client. */
  override list(): Promise<ListResponse> {
    return this.#delegate(() => this.#inner.list());
  }

  /** Delegates to the inner client. */
  override show(request: ShowRequest): Promise<ShowResponse> {
    return this.#delegate(() => this.#inner.show(request));
  }

  /** Delegates to the inner client. */
  override ps(): Promise<ListResponse> {
    return this.#delegate(() => this.#inner.ps());
  }

  /** Delegates to the inner client. */
  override version(): Promise<VersionResponse> {
    return this.#delegate(() => this.#inner.version());
  }

  /** Delegates to the inner client. */
  override webSearch(request: WebSearchRequest): Promise<WebSearchResponse> {
    return this.#delegate(() => this.#inner.webSearch(request));
  }

  /** Delegates to the inner client. */
  override webFetch(request: WebFetchRequest): Promise<WebFetchResponse> {
    return this.#delegate(() => this.#inner.webFetch(request));
  }

  /** Delegates to the inner client. */
  override systemone(request: SystemOneRequest): Promise<SystemOneResponse> {
    return this.#delegate(() => this.#inner.systemone(request));
  }

  /** Delegates to the inner client. */
  override encodeImage(image: Uint8Array | string): Promise<string> {
    return this.#inner.encodeImage(image);
  }
}
