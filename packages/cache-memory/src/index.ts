export { createMemoryCache, type MemoryCacheOptions } from './create-memory-cache.js';
export { DEFAULT_MAX_BYTES, MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';
