export { InvalidOptionError, MissingPackageError, TinyLLMError } from '@tinyllm/cache-core';
export { type CacheInfo, type CacheInfoStatus, cacheInfo } from './cache-info.js';
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
export { type CreateCachedClientOptions, createCachedClient } from './create-cached-client.js';
export type { CachedEndpoint } from './engine/profile.js';
export type { StoredResponse, StreamTrack } from './engine/stored-response.js';
export {
  isAbortError,
  isOllamaOutage,
  type OllamaCachedErrorCode,
  OllamaHttpError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
} from './errors.js';
export { DEFAULT_OLLAMA_HOST, formatHost, OLLAMA_CLIENT_DEFAULTS, OllamaClient, type OllamaClientOptions, resolveHost } from './ollama-client.js';
export { type OllamaCacheSettings, type OllamaResponseCache, ollamaResponseCache } from './ollama-response-cache.js';
export { type RequestCacheKeyOptions, requestCacheKey } from './request-key.js';
export type { CacheBackendChoice, CacheSettings } from './resolve-cache.js';
export type { CachedClientCacheStats, CachedClientCounters, CachedClientStats, SavedStats } from './stats.js';
export { buildCacheStatsReport, type CacheStatsReport, type CacheStatsSource, type ModelStatsRow, modelRowsOf } from './stats-report.js';
