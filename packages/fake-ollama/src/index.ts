export { type FakeAnswer, type FakeAnswerSettings, type FakeToolCall, fakeAnswer, fakeEmbedding, WORDS } from './answers.js';
export type { Fault } from './faults.js';
export { DEFAULT_ANSWER_TOKENS, DEFAULT_MODELS, type FakeOllamaOptions } from './options.js';
export { type FakeOllamaServer, startFakeOllama } from './server.js';
