import { type CacheOptions, createResponseCache, type ResponseCache } from '@tinyllm/cache-core';
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
  const {
    defaultTtl,
    staleIfErrorTtl,
    enableMetrics,
    timeoutMs,
    bulkTimeoutMs,
    namespace,
    savingsOf,
    validate,
    crossProcessFlight,
    leaseTtlMs,
    ...backendOptions
  } = options;
  const cacheOptions: CacheOptions<T> = {
    defaultTtl,
    staleIfErrorTtl,
    enableMetrics,
    timeoutMs,
    bulkTimeoutMs,
    namespace,
    savingsOf,
    validate,
    crossProcessFlight,
    leaseTtlMs,
    logger: options.logger,
  };
  for (const name of Object.keys(cacheOptions) as Array<keyof CacheOptions<T>>) if (cacheOptions[name] === undefined) delete cacheOptions[name];
  const commandTimeoutMs = backendOptions.commandTimeoutMs ?? timeoutMs;
  return createResponseCache<T>(
    cacheOptions,
    () => new RedisBackend(commandTimeoutMs === undefined ? backendOptions : { ...backendOptions, commandTimeoutMs }),
  );
}
