export { MissingPackageError, TinyLLMError } from '@tinyllm/cache-core';
export { attachCacheInfo, type CacheInfo, type CacheInfoStatus, cacheInfo } from './cache-info.js';
export {
  type CacheControls,
  type CachedChatRequest,
  type CachedEmbeddingsRequest,
  type CachedEmbedRequest,
  type CachedGenerateRequest,
  CachedOllamaClient,
  type CachedOllamaClientOptions,
  type SimpleFormFields,
} from './cached-client.js';
export {
  type CacheBackendChoice,
  type CreateCachedClientOptions,
  createCachedClient,
  type Importer,
  loadOptionalPackage,
  loadRedisCache,
  loadSqliteCache,
} from './create-cached-client.js';
export {
  isAbortError,
  OllamaHttpError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
  redactHost,
  toOllamaError,
} from './errors.js';
export { type ImageValue, imageToBase64, normalizeImages, withBase64Images } from './images.js';
export {
  DEFAULT_OLLAMA_HOST,
  formatHost,
  OLLAMA_CLIENT_DEFAULTS,
  OllamaClient,
  type OllamaClientOptions,
  resolveHost,
} from './ollama-client.js';
export { type OllamaCacheSettings, type OllamaResponseCache, ollamaResponseCache } from './ollama-response-cache.js';
export { aggregateChunks, replayChunks, splitResponse, splitWords, WORDS_PER_CHUNK } from './recording.js';
export { backoffDelay, createRetryFetch, type FetchFn, type RetryFetchOptions } from './retry-fetch.js';
export type {
  CachedClientCacheStats,
  CachedClientCounters,
  CachedClientStats,
  SavedStats,
} from './stats.js';
export { buildCacheStatsReport, type CacheStatsReport, type CacheStatsSource } from './stats-report.js';
export { type CachedEndpoint, isStorable, isStoredResponse, type JsonObject, type StoredResponse, savingsOf } from './stored-response.js';
