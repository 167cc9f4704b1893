import { type CacheOptions, createResponseCache, type ResponseCache } from '@tinyllm/cache-core';
import { CACHE_OPTION_NAMES } from '@tinyllm/cache-core/internal';
import type { RedisBackendOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';

/**
 * Options of createRedisCache: the backend's options plus every ResponseCache option (CacheOptions).
 * `logger` serves both. `timeoutMs` is the cache's deadline; when it is given without
 * commandTimeoutMs, the commands time out at the same bound, so the cache needs no timer of its own.
 */
export type RedisCacheOptions<T = unknown> = RedisBackendOptions & CacheOptions<T>;

/**
 * A ResponseCache over a RedisBackend: `createRedisCache({ url: 'redis://localhost:6379' })`.
 * Defaults: defaultTtl 3600 s, metrics on, a 250 ms deadline per operation (commands time out at 200 ms).
 */
export function createRedisCache<T = unknown>(options: RedisCacheOptions<T> = {}): ResponseCache<T> {
  // Every ResponseCache option goes to the cache (those given), the rest to the backend; `logger` to both.
  const cacheOptions: Record<string, unknown> = {};
  const backendOptions: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (!(CACHE_OPTION_NAMES as readonly string[]).includes(name)) backendOptions[name] = value;
    else if (value !== undefined) cacheOptions[name] = value;
  }
  if (options.logger !== undefined) backendOptions.logger = options.logger;
  const backend = backendOptions as RedisBackendOptions;
  const commandTimeoutMs = backend.commandTimeoutMs ?? options.timeoutMs;
  return createResponseCache<T>(
    cacheOptions as CacheOptions<T>,
    () => new RedisBackend(commandTimeoutMs === undefined ? backend : { ...backend, commandTimeoutMs }),
  );
}
