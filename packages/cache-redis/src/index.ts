export { describeConnectionError, type RedisClient } from './connect.js';
export { createRedisCache, type RedisCacheOptions } from './create-redis-cache.js';
export { REDIS_DEFAULTS, type RedisAddress, type RedisBackendOptions, safeClusterOptions, safeRedisOptions } from './options.js';
export { RedisBackend } from './redis-backend.js';
