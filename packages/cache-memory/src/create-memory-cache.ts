import { type CacheOptions, createResponseCache, type ResponseCache } from '@tinyllm/cache-core';
import { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';

/** Options of createMemoryCache: the backend's bounds plus every ResponseCache option (CacheOptions). */
export type MemoryCacheOptions<T = unknown> = MemoryBackendOptions & CacheOptions<T>;

/** An in-process LRU response cache: `createMemoryCache({ maxSize: 1000, defaultTtl: 3600 })`. */
export function createMemoryCache<T = unknown>(options: MemoryCacheOptions<T> = {}): ResponseCache<T> {
  const { maxSize, maxBytes, ...cacheOptions } = options;
  return createResponseCache<T>(cacheOptions, () => new MemoryBackend({ maxSize, maxBytes }));
}
