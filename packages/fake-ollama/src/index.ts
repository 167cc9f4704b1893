export {
  type FakeAnswer,
  type FakeAnswerSettings,
  type FakeLogprob,
  type FakeToolCall,
  fakeAnswer,
  fakeEmbedding,
  fakeLegacyEmbedding,
  fakeLogprobs,
  nativeEmbeddingLength,
  WORDS,
} from './answers.js';
export { type Fault, type FaultTarget, MODEL_ROUTES, parseFaultSpec, type QueuedFault } from './faults.js';
export {
  BUILT_IN_ORIGINS,
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_MAX_AGE_SECONDS,
  checkHost,
  isAllowedHostName,
  OriginPolicy,
  originsFromEnv,
} from './guards.js';
export { FAKE_VERSION } from './handlers/info.js';
export { CAPABILITIES, type Capability, capabilitiesFor, type ModelSpec } from './models.js';
export { displayShortest, fullName, type ModelName, normalizeModelName, parseModelName } from './names.js';
export { fromChatCompletionRequest, fromCompletionRequest, fromEmbeddingRequest } from './openai/translate.js';
export { DEFAULT_ANSWER_TOKENS, DEFAULT_MODELS, type FakeOllamaOptions } from './options.js';
export { type FakeOllamaServer, startFakeOllama } from './server.js';
