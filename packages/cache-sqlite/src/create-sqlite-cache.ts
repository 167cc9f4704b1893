import { type CacheOptions, createResponseCache, type ResponseCache } from '@tinyllm/cache-core';
import type { SqliteBackendOptions } from './options.js';
import { SqliteBackend } from './sqlite-backend.js';

/**
 * Options of createSqliteCache: the backend's options plus every ResponseCache option (CacheOptions).
 * `namespace` and `logger` serve both: the namespace scopes the backend's rows and is written into the
 * keys the cache derives.
 */
export type SqliteCacheOptions<T = unknown> = SqliteBackendOptions & CacheOptions<T>;

/** A ResponseCache on a SqliteBackend (default file: defaultCachePath()); throws InvalidOptionError or BackendError like the backend. */
export function createSqliteCache<T = unknown>(options: SqliteCacheOptions<T> = {}): ResponseCache<T> {
  const { path, maxEntries, maxBytes, busyTimeoutMs, ...cacheOptions } = options;
  return createResponseCache<T>(
    cacheOptions,
    () => new SqliteBackend({ path, maxEntries, maxBytes, busyTimeoutMs, namespace: cacheOptions.namespace, logger: cacheOptions.logger }),
  );
}
