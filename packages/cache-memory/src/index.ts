export { createMemoryCache, type MemoryCacheOptions } from './create-memory-cache.js';
export { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';
