import { type CacheLogger, ResponseCache, type Savings } from '@tinyllm/cache-core';
import { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';

/** Options of createMemoryCache: the backend's bounds plus the ResponseCache settings. */
export interface MemoryCacheOptions<T = unknown> extends MemoryBackendOptions {
  /** TTL of entries set without one, in seconds; null = no expiry. Default 3600. */
  defaultTtl?: number | null;
  /** Count hits, misses, sets, evictions, errors and coalesced calls. Default true. */
  enableMetrics?: boolean;
  /** A pino-compatible logger. Default: silent. */
  logger?: CacheLogger;
  /** Tenant or app written into every derived key. Default: none. */
  namespace?: string;
  /** Reads what a hit saved (time, tokens) from a stored value. Default: nothing counted. */
  savingsOf?: (value: T) => Savings | undefined;
}

/** An in-process LRU response cache: `createMemoryCache({ maxSize: 1000, defaultTtl: 3600 })`. */
export function createMemoryCache<T = unknown>(options: MemoryCacheOptions<T> = {}): ResponseCache<T> {
  const { maxSize, maxBytes, ...cacheOptions } = options;
  return new ResponseCache<T>({
    ...cacheOptions,
    backend: new MemoryBackend({ ...(maxSize === undefined ? {} : { maxSize }), ...(maxBytes === undefined ? {} : { maxBytes }) }),
  });
}
