export { type Connection, describeConnectionError, type RedisClient } from './connect.js';
export { createRedisCache, type RedisCacheOptions } from './create-redis-cache.js';
export { REDIS_DEFAULTS, type RedisAddress, type RedisBackendOptions, reconnectDelay, safeClusterOptions, safeRedisOptions } from './options.js';
export { COUNTERS_SUFFIX, RedisBackend } from './redis-backend.js';
export { escapeGlob } from './scan.js';
