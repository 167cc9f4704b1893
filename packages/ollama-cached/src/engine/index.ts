// The engine behind the cached client, for other front doors (the proxy): keys, lookup, single
// flight with live fan-out, recording, replay and the never-store rules, in one place.
export { attachCacheInfo, type CacheInfo, type CacheInfoStatus, cacheInfo } from '../cache-info.js';
export { INCOMPLETE_STREAM_MESSAGE, isAbortError, isOllamaOutage, OllamaStreamError, OllamaTimeoutError, redactHost } from '../errors.js';
export { type OllamaResponseCache, ollamaResponseCache } from '../ollama-response-cache.js';
export { type CacheBackendChoice, type CacheSettings, type Importer, loadOptionalPackage, type ResolvedCache, resolveCache } from '../resolve-cache.js';
export { buildStats, type CachedClientStats } from '../stats.js';
export { StreamIterator } from '../stream-iterator.js';
export { CacheEngine, type CacheEngineOptions, type CallControls, type EngineAnswer, type EngineCall, type EngineCounters } from './engine.js';
export { Flight, FlightAbandonedError, type ReadOptions } from './flight.js';
export { copyJson, isObject, type JsonObject, likeGo } from './json.js';
export { DEFAULT_MODEL_DIGEST_TTL_SECONDS, ModelDigests, type ModelDigestsOptions } from './model-digests.js';
export { chatProfile, embeddingsProfile, embedProfile, generateProfile, splitWords } from './native-profiles.js';
export { DONE_EVENT, frameFor, isDoneEvent, openaiChatProfile, openaiCompletionsProfile, openaiEmbeddingsProfile } from './openai-profiles.js';
export { type AnswerStamp, type CachedEndpoint, type EndpointProfile, newStamp, type TextSlot } from './profile.js';
export { profileOf } from './profiles.js';
export { type ReplaySource, replayChunks, replayStream } from './replay.js';
export {
  isStoredResponseFor,
  STORED_RESPONSE_VERSION,
  type StoredResponse,
  type StreamTrack,
  storedChunks,
  storeStream,
  storeWhole,
} from './stored-response.js';
export type { Upstream, UpstreamStream } from './upstream.js';
