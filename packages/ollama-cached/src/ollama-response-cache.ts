import { type CacheBackend, type CacheLogger, ResponseCache } from '@tinyllm/cache-core';
import { isStoredResponse, type StoredResponse, savingsOf } from './stored-response.js';

/** The ResponseCache type a CachedOllamaClient stores answers in. */
export type OllamaResponseCache = ResponseCache<StoredResponse>;

/** The cache settings a CachedOllamaClient applies to a cache it builds itself. */
export interface OllamaCacheSettings {
  /** TTL in seconds of entries written without cacheTtl; null = no expiry. Default 3600. */
  defaultTtl?: number | null;
  /** Tenant/app written into every key. Default: none. */
  namespace?: string;
  /** pino-compatible logger. Default: silent. */
  logger?: CacheLogger;
  /** Deadline of each cache operation in ms. Default 250. */
  cacheTimeoutMs?: number;
}

/**
 * The one way this package wraps a backend: answers' savings counted on hits, and stored values
 * validated before they are served (a foreign or outdated record is a miss, never a TypeError).
 * Closes the backend when the settings are invalid, so nothing is left open.
 */
export function ollamaResponseCache(backend: CacheBackend, settings: OllamaCacheSettings): OllamaResponseCache {
  try {
    return new ResponseCache<StoredResponse>({
      backend,
      savingsOf,
      validate: isStoredResponse,
      ...(settings.defaultTtl === undefined ? {} : { defaultTtl: settings.defaultTtl }),
      ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
      ...(settings.logger === undefined ? {} : { logger: settings.logger }),
      ...(settings.cacheTimeoutMs === undefined ? {} : { timeoutMs: settings.cacheTimeoutMs }),
    });
  } catch (error) {
    void Promise.resolve(backend.close()).catch(() => {});
    throw error;
  }
}
