export { createMemoryCache, type MemoryCacheOptions } from './create-memory-cache.js';
export { ENTRY_OVERHEAD_BYTES, MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';
