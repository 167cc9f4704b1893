export { type Answer, type AnswerMode, BackendBase, type BackendDefinition, defineBackend } from './backend-base.js';
export type { CacheOptions, Savings } from './cache-options.js';
export { MAX_KEY_DEPTH } from './canonical-json.js';
export { decodeEntry, encodeEntry } from './codec.js';
export type {
  BackendCapabilities,
  BackendStats,
  CacheBackend,
  CacheLeases,
  EntryInfo,
  LeaseAcquireResult,
  ListOptions,
  MaybePromise,
  ModelCounters,
  ScopeOptions,
  SetResult,
  SharedCounters,
} from './contract.js';
export { assertStaleTtl, assertTtl, type CreateEntryOptions, createEntry, MAX_TTL_SECONDS } from './create-entry.js';
export { type CacheEntry, isRetired, isStale, retainedUntil } from './entry.js';
export {
  BackendClosedError,
  BackendError,
  type CacheCoreErrorCode,
  CacheDecodeError,
  type CacheDecodeErrorOptions,
  CacheTimeoutError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidRequestError,
  MissingPackageError,
  TinyLLMError,
  UnstorableValueError,
} from './errors.js';
export type { ResponseCacheEvents, WriteFailure } from './events.js';
export {
  type CacheEndpoint,
  type CacheKeyOptions,
  type CacheKeyRequest,
  cacheKeyMaterial,
  canonicalRequest,
  generateCacheKey,
  type ImageInput,
  KEY_SCHEMA_VERSION,
  normalizeModelName,
  type SimpleRequest,
  toOllamaRequest,
} from './keys.js';
export { canList, entryInfoOf, type ListingBackend, namespaceOfKey } from './listing.js';
export { type CacheLogger, keyForLog, type LogFn, silentLogger } from './logger.js';
export type { CacheMetrics } from './metrics.js';
export { ReferenceBackend, type ReferenceBackendOptions } from './reference-backend.js';
export {
  type CacheResult,
  type CacheStats,
  type CacheStatus,
  createResponseCache,
  type FlightControl,
  type GetOrSetOptions,
  ResponseCache,
  type ResponseCacheMetrics,
  type ResponseCacheOptions,
  type SetOptions,
} from './response-cache.js';
export { createTieredCache, TieredBackend, type TieredBackendOptions } from './tiered-backend.js';
export * from './tools/index.js';
