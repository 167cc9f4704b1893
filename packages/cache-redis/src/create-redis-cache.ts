import { ResponseCache, type ResponseCacheOptions } from '@tinyllm/cache-core';
import type { RedisBackendOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';

/** Options of createRedisCache: the backend's plus ResponseCache's (timeoutMs is both the cache deadline and, when given, the command timeout). */
export type RedisCacheOptions<T = unknown> = RedisBackendOptions & Omit<ResponseCacheOptions<T>, 'backend'>;

/**
 * A ResponseCache over a RedisBackend: `createRedisCache({ url: 'redis://localhost:6379' })`.
 * Defaults: defaultTtl 3600 s, metrics on, a 250 ms deadline per operation (commands time out at 200 ms).
 */
export function createRedisCache<T = unknown>(options: RedisCacheOptions<T> = {}): ResponseCache<T> {
  const { defaultTtl, enableMetrics, timeoutMs, logger, namespace, savingsOf, ...backendOptions } = options;
  const backend = new RedisBackend({
    ...backendOptions,
    ...(logger === undefined ? {} : { logger }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const cacheOptions: ResponseCacheOptions<T> = { backend, defaultTtl: defaultTtl === undefined ? 3600 : defaultTtl, enableMetrics: enableMetrics ?? true };
  if (timeoutMs !== undefined) cacheOptions.timeoutMs = timeoutMs;
  if (logger !== undefined) cacheOptions.logger = logger;
  if (namespace !== undefined) cacheOptions.namespace = namespace;
  if (savingsOf !== undefined) cacheOptions.savingsOf = savingsOf;
  try {
    return new ResponseCache<T>(cacheOptions);
  } catch (error) {
    void backend.close();
    throw error;
  }
}
