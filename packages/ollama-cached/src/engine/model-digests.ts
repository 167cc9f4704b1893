import { type CacheLogger, normalizeModelName, silentLogger } from '@tinyllm/cache-core';
import { isObject, type JsonObject } from './json.js';

/** How long a lookup of /api/tags is trusted, in seconds, unless told otherwise. */
export const DEFAULT_MODEL_DIGEST_TTL_SECONDS = 10;
/** A model /api/tags did not list is looked up again at most this often, in ms (it may have just been pulled). */
const UNKNOWN_RETRY_MS = 1_000;
/** After a miss, the list is refreshed in the background when it is older than this, in ms. */
const MISS_REFRESH_MS = 1_000;
/** A failed lookup is retried at most this often, in ms (a down Ollama is not asked on every request). */
const FAILURE_RETRY_MS = 1_000;
/** Spellings of model names remembered before the memo starts over. */
const MAX_REMEMBERED_NAMES = 1_000;
/** Longest wait for /api/tags on the request path, in ms; past it the last known digests are used. */
export const TAGS_TIMEOUT_MS = 2_000;

/** Options of ModelDigests. */
export interface ModelDigestsOptions {
  /** Fetches Ollama's /api/tags answer (`{ models: [{ name, digest }] }`). */
  fetchTags: (signal: AbortSignal) => Promise<JsonObject>;
  /** How long a lookup is trusted, in seconds. @default 10 */
  ttlSeconds?: number;
  /** Where failed lookups are logged. @default silent */
  logger?: CacheLogger;
}

/**
 * The digests of Ollama's models (from /api/tags), for keys bound to a model's weights. The list is
 * fetched once and trusted for ttlSeconds; it is fetched again (one request however many callers
 * wait) when it is older, when a model is not on it (at most once a second), and in the background
 * after a miss. When Ollama cannot be asked, the last known digests stay in use, so stale-if-error
 * still finds the entries they keyed.
 */
export class ModelDigests {
  readonly #fetchTags: (signal: AbortSignal) => Promise<JsonObject>;
  readonly #ttlMs: number;
  readonly #logger: CacheLogger;
  #digests = new Map<string, string>();
  /** When the list was last fetched. */
  #fetchedAt = Number.NEGATIVE_INFINITY;
  /** When a fetch was last started, and whether it failed (a down Ollama is asked at most once a second). */
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #failed = false;
  #pending: Promise<void> | undefined;
  #failureLogged = false;
  /** Model spellings already normalised (a hit should not redo it). */
  readonly #names = new Map<string, string>();
  /** Lookups of /api/tags made (for tests and stats). */
  lookups = 0;

  constructor(options: ModelDigestsOptions) {
    this.#fetchTags = options.fetchTags;
    this.#ttlMs = (options.ttlSeconds ?? DEFAULT_MODEL_DIGEST_TTL_SECONDS) * 1000;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * The model's digest: from the list when it is fresh (synchronously: the hit path), else after
   * fetching it again; undefined when Ollama never listed it.
   */
  digestOf(model: string): string | undefined | Promise<string | undefined> {
    let name = this.#names.get(model);
    if (name === undefined) {
      name = normalizeModelName(model);
      if (this.#names.size >= MAX_REMEMBERED_NAMES) this.#names.clear();
      this.#names.set(model, name);
    }
    const now = Date.now();
    const sinceAttempt = now - this.#attemptedAt;
    const old = now - this.#fetchedAt >= this.#ttlMs && (!this.#failed || sinceAttempt >= FAILURE_RETRY_MS);
    if (!old && (sinceAttempt < UNKNOWN_RETRY_MS || this.#digests.has(name))) return this.#digests.get(name);
    const key = name;
    return this.refresh().then(() => this.#digests.get(key));
  }

  /** After a miss: refresh the list in the background unless it is very recent (a re-pull shows on the next request). */
  noteMiss(): void {
    if (Date.now() - this.#attemptedAt >= MISS_REFRESH_MS) void this.refresh();
  }

  /** Fetches the list now (joins a fetch under way); never rejects: a failure keeps the last known digests. */
  refresh(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    this.lookups++;
    this.#attemptedAt = Date.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer from /api/tags within ${TAGS_TIMEOUT_MS} ms`)), TAGS_TIMEOUT_MS);
    timer.unref();
    try {
      const answer = await this.#fetchTags(controller.signal);
      const digests = new Map<string, string>();
      const models = Array.isArray(answer.models) ? answer.models : [];
      for (const model of models) {
        if (!isObject(model) || typeof model.digest !== 'string' || model.digest === '') continue;
        for (const field of [model.name, model.model]) if (typeof field === 'string' && field !== '') digests.set(normalizeModelName(field), model.digest);
      }
      this.#digests = digests;
      this.#fetchedAt = Date.now();
      this.#failed = false;
      this.#failureLogged = false;
    } catch (error) {
      // Keep what is known; ask again in FAILURE_RETRY_MS rather than on every request.
      this.#failed = true;
      if (!this.#failureLogged) {
        this.#failureLogged = true;
        this.#logger.warn({ event: 'model_digests_failed', err: error }, 'cannot read model digests from /api/tags; using the last known ones');
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
