import { type CacheLogger, ResponseCache } from '@tinyllm/cache-core';
import type { SqliteBackendOptions } from './options.js';
import { SqliteBackend } from './sqlite-backend.js';

/** Options of createSqliteCache: the backend's options plus the ResponseCache's. */
export interface SqliteCacheOptions extends SqliteBackendOptions {
  /** TTL of entries set without one, in seconds; null = no expiry. Default 3600. */
  defaultTtl?: number | null;
  /** Count hits, misses, sets, evictions and errors (also into the file's shared counters). Default true. */
  enableMetrics?: boolean;
  /** ResponseCache deadline per operation, in ms (SQLite answers synchronously; busyTimeoutMs bounds lock waits). Default: ResponseCache's. */
  timeoutMs?: number;
  /** pino-compatible logger for the cache and the backend. Default: silent. */
  logger?: CacheLogger;
  /** Scopes the backend's rows and is written into keys the cache derives. Default: backend "default", no key namespace. */
  namespace?: string;
}

/** A ResponseCache on a SqliteBackend (default file: defaultCachePath()); throws InvalidOptionError or BackendError like the backend. */
export function createSqliteCache<T = unknown>(options: SqliteCacheOptions = {}): ResponseCache<T> {
  const { defaultTtl = 3600, enableMetrics = true, timeoutMs, logger, namespace, ...backendOptions } = options;
  const backend = new SqliteBackend({
    ...backendOptions,
    ...(namespace === undefined ? {} : { namespace }),
    ...(logger === undefined ? {} : { logger }),
  });
  try {
    return new ResponseCache<T>({
      backend,
      defaultTtl,
      enableMetrics,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(logger === undefined ? {} : { logger }),
      ...(namespace === undefined ? {} : { namespace }),
    });
  } catch (error) {
    backend.close();
    throw error;
  }
}
