import { type CacheBackend, type CacheLogger, ResponseCache, type Savings } from '@tinyllm/cache-core';
import { isObject } from './engine/json.js';
import type { CachedEndpoint } from './engine/profile.js';
import { profileOf } from './engine/profiles.js';
import { isStoredResponseFor, type StoredResponse } from './engine/stored-response.js';

/** The ResponseCache type a CachedOllamaClient stores answers in. */
export type OllamaResponseCache = ResponseCache<StoredResponse>;

/** The cache settings a CachedOllamaClient applies to a cache it builds itself. */
export interface OllamaCacheSettings {
  /** TTL in seconds of entries written without cacheTtl; null = no expiry. @default 3600 */
  defaultTtl?: number | null;
  /** Seconds an answer is kept past its TTL for stale-if-error; 0 = off. @default 0 */
  staleIfErrorTtl?: number;
  /** Tenant/app written into every key. @default none */
  namespace?: string;
  /** pino-compatible logger. @default silent */
  logger?: CacheLogger;
  /** Deadline of each cache operation in ms. @default 250 */
  cacheTimeoutMs?: number;
  /** Cross-process single flight on a store with leases (Redis, SQLite): processes missing one key make one model call. @default true */
  crossProcessFlight?: boolean;
  /** Lifetime of a cross-process lease without renewal, in ms (a leader that died is replaced after at most this). @default 5000 */
  leaseTtlMs?: number;
}

const ENDPOINTS: ReadonlySet<unknown> = new Set<CachedEndpoint>([
  'generate',
  'chat',
  'embed',
  'embeddings',
  'v1/chat/completions',
  'v1/completions',
  'v1/embeddings',
]);

// A memory store hands back the same record object on every hit, and records are never mutated
// once stored (callers get copies, the proxy serialises them): what a record was found to be is
// remembered with it, so a hit does not walk it again.
const VALID_RECORDS = new WeakSet<object>();
const SAVINGS = new WeakMap<object, Savings | undefined>();

/** Whether a value read from a cache is a record of this package's format, for any endpoint (see isStoredResponseFor). */
export function isStoredResponse(value: unknown): value is StoredResponse {
  if (!isObject(value)) return false;
  if (VALID_RECORDS.has(value)) return true;
  const valid = ENDPOINTS.has(value.endpoint) && isStoredResponseFor(value, profileOf(value.endpoint as CachedEndpoint));
  if (valid) VALID_RECORDS.add(value);
  return valid;
}

/**
 * What a hit on a stored answer saved: Ollama's total_duration (else the time the model took to
 * answer, as measured when it was recorded) and the tokens it read and wrote.
 */
export function savingsOf(value: StoredResponse): Savings | undefined {
  if (!isObject(value)) return undefined;
  if (SAVINGS.has(value)) return SAVINGS.get(value);
  const saved = measureSavings(value);
  SAVINGS.set(value, saved);
  return saved;
}

function measureSavings(value: StoredResponse): Savings | undefined {
  if (!isObject(value.response) || !ENDPOINTS.has(value.endpoint)) return undefined;
  const saved = profileOf(value.endpoint).savings(value.response);
  if (saved?.durationNs || typeof value.elapsedMs !== 'number') return saved;
  return { ...saved, durationNs: Math.round(value.elapsedMs * 1e6) };
}

// Caches built here validate every record they serve (isStoredResponse) before a hit counts: for
// those the engine's per-call rule only needs to check the endpoint, not walk the record again.
const validatedCaches = new WeakSet<object>();

/** True for a cache built by ollamaResponseCache (it validates every stored record itself). */
export function validatesRecords(cache: object): boolean {
  return validatedCaches.has(cache);
}

/**
 * The one way this package wraps a backend: answers' savings counted on hits, and stored values
 * validated before they are served (a foreign or outdated record is a miss, never a TypeError).
 * Closes the backend when the settings are invalid, so nothing is left open.
 */
export function ollamaResponseCache(backend: CacheBackend, settings: OllamaCacheSettings): OllamaResponseCache {
  try {
    const cache = new ResponseCache<StoredResponse>({
      backend,
      savingsOf,
      validate: isStoredResponse,
      ...(settings.defaultTtl === undefined ? {} : { defaultTtl: settings.defaultTtl }),
      ...(settings.staleIfErrorTtl === undefined ? {} : { staleIfErrorTtl: settings.staleIfErrorTtl }),
      ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
      ...(settings.logger === undefined ? {} : { logger: settings.logger }),
      ...(settings.cacheTimeoutMs === undefined ? {} : { timeoutMs: settings.cacheTimeoutMs }),
      ...(settings.crossProcessFlight === undefined ? {} : { crossProcessFlight: settings.crossProcessFlight }),
      ...(settings.leaseTtlMs === undefined ? {} : { leaseTtlMs: settings.leaseTtlMs }),
    });
    validatedCaches.add(cache);
    return cache;
  } catch (error) {
    void Promise.resolve(backend.close()).catch(() => {});
    throw error;
  }
}
