export { createSqliteCache, type SqliteCacheOptions } from './create-sqlite-cache.js';
export { defaultCachePath } from './default-path.js';
export { SQLITE_DEFAULTS, type SqliteBackendOptions } from './options.js';
export { SqliteBackend, type SqliteBackendStats, type SqliteCounters } from './sqlite-backend.js';
