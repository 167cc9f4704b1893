import { assertTtl, type CacheKeyRequest, InvalidOptionError, InvalidRequestError, toOllamaRequest } from '@tinyllm/cache-core';
import type {
  AbortableAsyncIterator,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  EmbedRequest,
  EmbedResponse,
  GenerateRequest,
  GenerateResponse,
  Ollama,
} from 'ollama';
import { attachCacheInfo } from './cache-info.js';
import { DelegatingOllama } from './delegating-ollama.js';
import { CacheEngine, type CallControls, type EngineAnswer, type EngineCall } from './engine/engine.js';
import type { JsonObject } from './engine/json.js';
import { OllamaJsUpstream } from './engine/ollama-upstream.js';
import type { CachedEndpoint } from './engine/profile.js';
import { hasImages, withBase64Images } from './images.js';
import { DEFAULT_OLLAMA_HOST, OllamaClient } from './ollama-client.js';
import type { OllamaResponseCache } from './ollama-response-cache.js';
import { type CacheBackendChoice, type CacheSettings, resolveCache } from './resolve-cache.js';
import { buildStats, type CachedClientStats } from './stats.js';
import { asAbortable } from './stream-iterator.js';

/** Per-call cache controls; they never reach Ollama and never change the key. */
export interface CacheControls {
  /** Skip the cache read, ask the model, and replace the entry with the fresh answer. @default false */
  forceRefresh?: boolean;
  /** TTL in seconds of the entry this call writes (null: never expires). @default the cache's defaultTtl */
  cacheTtl?: number | null;
  /** Do not store this call's answer (a stored answer is still served). @default false */
  noStore?: boolean;
}

/** The simple request form's fields, accepted next to Ollama's (max_tokens → options.num_predict, json_mode → format "json"). */
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
export interface CachedOllamaClientOptions extends CacheSettings {
  /** The client that talks to Ollama: an OllamaClient or the official package's Ollama. @default new OllamaClient() */
  client?: Ollama;
  /** Where answers are cached: 'memory', 'redis', 'sqlite', a CacheBackend, a ResponseCache or a promise of one. @default 'memory' */
  cache?: CacheBackendChoice;
  /** close() also closes the cache. @default true only when this client opened the store (by name or by default) */
  ownsCache?: boolean;
  /** false: every call goes straight to the inner client (status 'bypass'). @default true */
  enableCache?: boolean;
}

function hostOf(client: Ollama): string {
  const explicit = (client as unknown as { host?: unknown }).host;
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const configured = (client as unknown as { config?: { host?: unknown } }).config?.host;
  return typeof configured === 'string' && configured !== '' ? configured : DEFAULT_OLLAMA_HOST;
}

const NO_CONTROLS: CallControls = {};
// Fields each call sets for itself: the engine decides how to ask the model.
const PER_CALL_FIELDS: ReadonlySet<string> = new Set(['stream']);

// The caller's value of an engine answer: a stream as an AbortableAsyncIterator, a whole answer as is, with its cache info.
function deliver(answer: EngineAnswer): object {
  if (answer.kind === 'stream') return asAbortable(attachCacheInfo(answer.chunks, answer.info));
  if (answer.kind === 'whole') return attachCacheInfo(answer.response, answer.info);
  throw new Error('unreachable: only-if-cached is not a client control');
}

/**
 * An `Ollama` (official client) whose generate, chat, embed and embeddings answers are cached;
 * every other method goes to the inner client. Same overloads as ollama-js (stream: true → an
 * AbortableAsyncIterator), plus the simple request form and the per-call controls forceRefresh,
 * cacheTtl and noStore. One entry serves streaming and non-streaming callers; identical concurrent
 * misses make one upstream call (a stream that is already under way is followed live); a failing
 * cache never fails a call. The caching itself is the shared CacheEngine.
 */
export class CachedOllamaClient extends DelegatingOllama {
  /** The engine behind the cached methods (shared with the proxy's front door). */
  readonly engine: CacheEngine;
  readonly #host: string;
  readonly #ownsCache: boolean;
  #closing: Promise<void> | undefined;

  constructor(options: CachedOllamaClientOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
    const inner = options.client ?? new OllamaClient();
    if (typeof (inner as Partial<Ollama>).generate !== 'function') {
      throw new InvalidOptionError('client', inner, 'an Ollama instance (from the ollama package) or an OllamaClient');
    }
    const host = hostOf(inner);
    super(inner, host);
    this.#host = host;
    const enabled = options.enableCache !== false;
    const resolved = enabled ? resolveCache(options.cache, options) : undefined;
    this.#ownsCache = options.ownsCache ?? resolved?.owned ?? false;
    this.engine = new CacheEngine({
      upstream: new OllamaJsUpstream(inner, host),
      ...(resolved === undefined ? {} : { cache: resolved.cache }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(inner instanceof OllamaClient ? { idleTimeoutMs: inner.timeoutMs } : {}),
      ...(enabled && options.bindModelDigest !== undefined ? { bindModelDigest: options.bindModelDigest } : {}),
      ...(options.modelDigestTtl === undefined ? {} : { modelDigestTtl: options.modelDigestTtl }),
    });
  }

  /** The Ollama address of the inner client. */
  get host(): string {
    return this.#host;
  }

  /** True unless the client was created with enableCache: false. */
  get cacheEnabled(): boolean {
    return this.engine.enabled;
  }

  /** The cache once it is available (undefined while a redis/sqlite cache loads, or when disabled). */
  get responseCache(): OllamaResponseCache | undefined {
    return this.engine.cache;
  }

  /** Resolves once the cache is loaded; rejects with its error (e.g. MissingPackageError) for fail-fast setup. */
  async ready(): Promise<void> {
    if (this.engine.enabled) await this.engine.loadCache();
  }

  /** Generates a completion (cached); stream: true gives an AbortableAsyncIterator of chunks. */
  override generate(request: CachedGenerateRequest & { stream: true }): Promise<AbortableAsyncIterator<GenerateResponse>>;
  override generate(request: CachedGenerateRequest & { stream?: false }): Promise<GenerateResponse>;
  override generate(request: CachedGenerateRequest): Promise<GenerateResponse | AbortableAsyncIterator<GenerateResponse>> {
    // Not async: one promise fewer on every hit (#call is async, so a bad request still rejects).
    return this.#call('generate', request) as Promise<unknown> as Promise<GenerateResponse | AbortableAsyncIterator<GenerateResponse>>;
  }

  /** Chats with a model (cached); stream: true gives an AbortableAsyncIterator of chunks. */
  override chat(request: CachedChatRequest & { stream: true }): Promise<AbortableAsyncIterator<ChatResponse>>;
  override chat(request: CachedChatRequest & { stream?: false }): Promise<ChatResponse>;
  override chat(request: CachedChatRequest): Promise<ChatResponse | AbortableAsyncIterator<ChatResponse>> {
    // Not async: one promise fewer on every hit (#call is async, so a bad request still rejects).
    return this.#call('chat', request) as Promise<unknown> as Promise<ChatResponse | AbortableAsyncIterator<ChatResponse>>;
  }

  /** Embeds input into vectors (cached). */
  override async embed(request: CachedEmbedRequest): Promise<EmbedResponse> {
    return (await this.#call('embed', request)) as unknown as EmbedResponse;
  }

  /** Legacy /api/embeddings (cached, under keys of its own). */
  override async embeddings(request: CachedEmbeddingsRequest): Promise<EmbeddingsResponse> {
    return (await this.#call('embeddings', request)) as unknown as EmbeddingsResponse;
  }

  // Not async: a hit from a memory store is delivered with one resolved promise, not a chain of them.
  #call(endpoint: CachedEndpoint, request: object): Promise<object> {
    let answer: EngineAnswer | Promise<EngineAnswer>;
    try {
      const call = this.#plan(endpoint, request);
      answer = call instanceof Promise ? call.then((planned) => this.engine.run(planned)) : this.engine.answer(call);
    } catch (error) {
      return Promise.reject(error);
    }
    if (answer instanceof Promise) return answer.then(deliver);
    try {
      return Promise.resolve(deliver(answer));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // The request as it goes to Ollama: the simple form lifted into Ollama's shape, images as base64
  // (so keys hash image bytes), no stream field, no cache controls. Synchronous unless there are
  // images to read: this runs on every call, hits included.
  #plan(endpoint: CachedEndpoint, request: object): EngineCall | Promise<EngineCall> {
    if (request === null || typeof request !== 'object') throw new InvalidRequestError('request', 'expected an object');
    const raw = request as JsonObject;
    assertTtl(raw.cacheTtl, 'cacheTtl');
    const sent = toOllamaRequest(raw as CacheKeyRequest, PER_CALL_FIELDS);
    const call = (body: JsonObject): EngineCall => ({
      endpoint,
      request: body,
      model: typeof raw.model === 'string' ? raw.model : undefined,
      stream: (endpoint === 'generate' || endpoint === 'chat') && raw.stream === true,
      controls: controlsOf(raw),
    });
    if ((endpoint === 'generate' || endpoint === 'chat') && hasImages(sent)) return withBase64Images(sent).then(call);
    return call(sent);
  }

  /** Counters, store size and what hits saved (see CachedClientStats). Never throws for a failing cache. */
  async getStats(): Promise<CachedClientStats> {
    return buildStats(await this.engine.cacheStats(), this.engine.counters);
  }

  /** Removes every entry of the cache's namespace; resolves how many went (0 when disabled). */
  async clearCache(): Promise<number> {
    if (!this.engine.enabled) return 0;
    return (await this.engine.loadCache()).clear();
  }

  /** Resolves once the cache writes started so far have landed (or failed); writes never delay answers. */
  async flush(): Promise<void> {
    if (!this.engine.enabled) return;
    await (await this.engine.loadCache()).flush();
  }

  /**
   * Stops in-flight streams, lets pending writes land, then closes the cache if this client
   * opened it (never a cache or backend passed in). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.engine.stop();
      if (!this.engine.enabled) return;
      try {
        const cache = await this.engine.loadCache();
        if (this.#ownsCache) await cache.close();
        else await cache.flush();
      } catch {
        // a cache that failed to load has nothing to close
      }
    })();
    return this.#closing;
  }

  /** Aborts every stream in flight: this client's recordings and the inner client's requests. */
  override abort(): void {
    this.engine.abortAll();
    super.abort();
  }
}

function controlsOf(raw: JsonObject): CallControls {
  if (raw.forceRefresh !== true && raw.noStore !== true && raw.cacheTtl === undefined) return NO_CONTROLS;
  const controls: CallControls = {};
  if (raw.forceRefresh === true) controls.forceRefresh = true;
  if (raw.noStore === true) controls.noStore = true;
  if (raw.cacheTtl !== undefined) controls.ttl = raw.cacheTtl as number | null;
  return controls;
}
