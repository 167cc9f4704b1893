export { createSqliteCache, type SqliteCacheOptions } from './create-sqlite-cache.js';
export { defaultCachePath } from './default-path.js';
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_NAMESPACE,
  type ResolvedSqliteBackendOptions,
  resolveSqliteOptions,
  type SqliteBackendOptions,
} from './options.js';
export { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
export { BEST_EFFORT_BUSY_TIMEOUT_MS, SqliteBackend, type SqliteBackendStats, type SqliteCounters } from './sqlite-backend.js';
