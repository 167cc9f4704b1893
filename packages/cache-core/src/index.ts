export { canonicalJson, writeCanonical } from './canonical-json.js';
export { CODEC_TAG, CODEC_VERSION, decodeEntry, encodeEntry } from './codec.js';
export type { BackendCapabilities, BackendStats, CacheBackend, MaybePromise, SharedCounters } from './contract.js';
export { assertTtl, type CreateEntryOptions, createEntry, measureValueBytes } from './create-entry.js';
export { withDeadline } from './deadline.js';
export { type CacheEntry, isExpired, remainingTtlMs } from './entry.js';
export {
  BackendClosedError,
  BackendError,
  CacheDecodeError,
  CacheTimeoutError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidRequestError,
  MissingPackageError,
  TinyLLMError,
  type TinyLLMErrorCode,
} from './errors.js';
export { sha256Hex } from './hash.js';
export {
  assertNamespace,
  CACHE_CONTROL_FIELDS,
  type CacheEndpoint,
  type CacheKeyOptions,
  type CacheKeyRequest,
  cacheKeyMaterial,
  canonicalRequest,
  EXCLUDED_OPTION_FIELDS,
  EXCLUDED_REQUEST_FIELDS,
  generateCacheKey,
  type ImageInput,
  imageFingerprint,
  KEY_SCHEMA_VERSION,
  normalizeModelName,
  type SimpleRequest,
  toOllamaRequest,
} from './keys.js';
export { type CacheLogger, keyForLog, type LogFn, silentLogger } from './logger.js';
export { type CacheMetrics, MetricsRecorder } from './metrics.js';
export { ReferenceBackend, type ReferenceBackendOptions } from './reference-backend.js';
export {
  type CacheResult,
  type CacheStats,
  type CacheStatus,
  type FlightControl,
  type GetOrSetOptions,
  ResponseCache,
  type ResponseCacheMetrics,
  type ResponseCacheOptions,
  type Savings,
  type SetOptions,
} from './response-cache.js';
export { createTieredCache, TieredBackend, type TieredBackendOptions } from './tiered-backend.js';
