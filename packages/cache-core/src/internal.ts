/**
 * Internals the @tinyllm packages share with each other (`@tinyllm/cache-core/internal`). Not part
 * of the public API: names here may change in any release.
 */
export { CHECKS_EXPIRY } from './backend-base.js';
export { CACHE_OPTION_NAMES, isCacheBackend, type ResolvedCacheOptions, resolveCacheOptions } from './cache-options.js';
export { assertKeyDepth, canonicalJson, MAX_KEY_DEPTH, writeCanonical } from './canonical-json.js';
export { ANY_CODEC_TAG, CODEC_TAG, CODEC_VERSION, decodeEntryHead, type EntryHead, jsonTextOf } from './codec.js';
export { measureValueBytes } from './create-entry.js';
export { DeadlineQueue, withDeadline } from './deadline.js';
export { isExpired, remainingTtlMs } from './entry.js';
export { CacheEvents, type ResponseCacheEventName } from './events.js';
export { sha256Hex } from './hash.js';
export { assertNamespace, CACHE_CONTROL_FIELDS, EXCLUDED_OPTION_FIELDS, EXCLUDED_REQUEST_FIELDS, imageFingerprint } from './keys.js';
export { DEFAULT_LIST_BATCH, entryViewOf, listBatchSize } from './listing.js';
export { MetricsRecorder } from './metrics.js';
