import type { Savings } from '@tinyllm/cache-core';
import { copyJson, isObject, type JsonObject, omit, text } from './json.js';
import type { AnswerStamp, EndpointProfile, TextSlot } from './profile.js';

/** Words per replayed chunk when a non-streaming answer is replayed as a stream. */
const WORDS_PER_CHUNK = 4;

/** Splits text into pieces of a few words; joining the pieces gives the text back exactly. */
export function splitWords(value: string, perChunk = WORDS_PER_CHUNK): string[] {
  if (value === '') return [];
  const parts = value.split(/(?<=\s)(?=\S)/);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += perChunk) out.push(parts.slice(i, i + perChunk).join(''));
  return out;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

// Ollama's total_duration is the time a hit saved; eval_count + prompt_eval_count the tokens.
function nativeSavings(response: JsonObject): Savings {
  return { durationNs: num(response.total_duration), tokens: num(response.eval_count) + num(response.prompt_eval_count) };
}

const errorOf = (chunk: JsonObject): string | undefined => (typeof chunk.error === 'string' && chunk.done !== true ? chunk.error : undefined);

// Replayed chunks and answers carry the caller's spelling of the model and the current time, in
// Ollama's key order (model, created_at first).
function stamp(chunk: JsonObject, { model, createdAt }: AnswerStamp): JsonObject {
  const out: JsonObject = { model: model ?? chunk.model, created_at: createdAt };
  for (const key in chunk) if (key !== 'model' && key !== 'created_at') out[key] = chunk[key];
  return out;
}

// A live chunk keeps the time Ollama made it; only the model is the caller's own spelling.
function relabel(chunk: JsonObject, { model }: AnswerStamp): void {
  if (model !== undefined && 'model' in chunk) chunk.model = model;
}

const answerFields = ({ model, createdAt }: AnswerStamp): JsonObject => ({ model, created_at: createdAt });

// stampedCopy(response, answerFields(stamp)) written out: this runs on every hit, and a loop over
// a fresh fields object cost more than the copy itself.
function freshAnswer(response: JsonObject, stamp: AnswerStamp): JsonObject {
  const copy = copyJson(response);
  if (stamp.model !== undefined && 'model' in copy) copy.model = stamp.model;
  if ('created_at' in copy) copy.created_at = stamp.createdAt;
  return copy;
}

// model and created_at are every answer's own: a track never stores them.
const shapeOf = (chunk: JsonObject): JsonObject => copyJson(omit(chunk, ['model', 'created_at']));

// Ollama's native API streams unless told `stream: false`.
const streamsUnlessFalse = (request: JsonObject): boolean => request.stream !== false;

const topLevel = (field: string): TextSlot => ({
  get: (chunk) => (typeof chunk[field] === 'string' ? (chunk[field] as string) : undefined),
  set: (chunk, value) => {
    chunk[field] = value;
  },
  whole: (response) => text(response[field]),
});

const inMessage = (field: string): TextSlot => ({
  get: (chunk) => {
    const message = chunk.message;
    return isObject(message) && typeof message[field] === 'string' ? (message[field] as string) : undefined;
  },
  set: (chunk, value) => {
    (chunk.message as JsonObject)[field] = value;
  },
  whole: (response) => (isObject(response.message) ? text(response.message[field]) : ''),
});

const isCompleteReply = (r: JsonObject): boolean => r.done === true && r.done_reason !== 'load' && r.done_reason !== 'unload';

/** /api/generate: `response` and `thinking` text, tool calls, logprobs, a final chunk with the metrics. */
export const generateProfile: EndpointProfile = {
  endpoint: 'generate',
  streams: true,
  wantsStream: streamsUnlessFalse,
  slots: [topLevel('thinking'), topLevel('response')],
  isLoadRequest: (request) => (typeof request.prompt !== 'string' || request.prompt === '') && !(Array.isArray(request.images) && request.images.length > 0),
  isAnswer: (r) => typeof r.response === 'string' && r.done === true,
  isStorable: isCompleteReply,
  isFinal: (chunk) => chunk.done === true,
  errorOf,
  aggregate(chunks) {
    const last = chunks[chunks.length - 1] ?? {};
    const logprobs: unknown[] = [];
    const toolCalls: unknown[] = [];
    let response = '';
    let thinking = '';
    for (const chunk of chunks) {
      response += text(chunk.response);
      thinking += text(chunk.thinking);
      if (Array.isArray(chunk.tool_calls)) toolCalls.push(...chunk.tool_calls);
      if (Array.isArray(chunk.logprobs)) logprobs.push(...chunk.logprobs);
    }
    const out: JsonObject = {
      model: last.model,
      created_at: last.created_at,
      response,
      ...(thinking === '' ? {} : { thinking }),
      ...omit(last, ['model', 'created_at', 'response', 'thinking', 'logprobs', 'tool_calls']),
    };
    if (toolCalls.length > 0) out.tool_calls = toolCalls;
    if (logprobs.length > 0) out.logprobs = logprobs;
    return out;
  },
  split(response) {
    const chunks: JsonObject[] = [];
    for (const piece of splitWords(text(response.thinking))) chunks.push({ response: '', thinking: piece, done: false });
    for (const piece of splitWords(text(response.response))) chunks.push({ response: piece, done: false });
    if (Array.isArray(response.logprobs) && chunks.length > 0) (chunks[chunks.length - 1] as JsonObject).logprobs = response.logprobs;
    if (Array.isArray(response.tool_calls) && response.tool_calls.length > 0) chunks.push({ response: '', tool_calls: response.tool_calls, done: false });
    chunks.push({ response: '', ...omit(response, ['model', 'created_at', 'response', 'thinking', 'logprobs', 'tool_calls']), done: true });
    return chunks;
  },
  stamp,
  relabel,
  answerFields,
  freshAnswer,
  shapeOf,
  savings: nativeSavings,
};

/** /api/chat: `message.content` and `message.thinking` text, tool calls in a chunk of their own. */
export const chatProfile: EndpointProfile = {
  endpoint: 'chat',
  streams: true,
  wantsStream: streamsUnlessFalse,
  slots: [inMessage('thinking'), inMessage('content')],
  isLoadRequest: (request) => !Array.isArray(request.messages) || request.messages.length === 0,
  isAnswer: (r) => isObject(r.message) && typeof r.message.role === 'string' && typeof r.message.content === 'string' && r.done === true,
  isStorable: isCompleteReply,
  isFinal: (chunk) => chunk.done === true,
  errorOf,
  aggregate(chunks) {
    const last = chunks[chunks.length - 1] ?? {};
    const logprobs: unknown[] = [];
    const toolCalls: unknown[] = [];
    let content = '';
    let thinking = '';
    let role: unknown;
    for (const chunk of chunks) {
      const message = isObject(chunk.message) ? chunk.message : {};
      role ??= typeof message.role === 'string' ? message.role : undefined;
      content += text(message.content);
      thinking += text(message.thinking);
      if (Array.isArray(message.tool_calls)) toolCalls.push(...message.tool_calls);
      if (Array.isArray(chunk.logprobs)) logprobs.push(...chunk.logprobs);
    }
    const message: JsonObject = { role: role ?? 'assistant', content };
    if (thinking !== '') message.thinking = thinking;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    const out: JsonObject = { model: last.model, created_at: last.created_at, message, ...omit(last, ['model', 'created_at', 'message', 'logprobs']) };
    if (logprobs.length > 0) out.logprobs = logprobs;
    return out;
  },
  split(response) {
    const chunks: JsonObject[] = [];
    const message = isObject(response.message) ? response.message : {};
    const role = typeof message.role === 'string' ? message.role : 'assistant';
    for (const piece of splitWords(text(message.thinking))) chunks.push({ message: { role, content: '', thinking: piece }, done: false });
    for (const piece of splitWords(text(message.content))) chunks.push({ message: { role, content: piece }, done: false });
    if (Array.isArray(response.logprobs) && chunks.length > 0) (chunks[chunks.length - 1] as JsonObject).logprobs = response.logprobs;
    if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
      chunks.push({ message: { role, content: '', tool_calls: message.tool_calls }, done: false });
    }
    chunks.push({ message: { role, content: '' }, ...omit(response, ['model', 'created_at', 'message', 'logprobs']), done: true });
    return chunks;
  },
  stamp,
  relabel,
  answerFields,
  freshAnswer,
  shapeOf,
  savings: nativeSavings,
};

const isVector = (value: unknown): boolean => Array.isArray(value);

/** /api/embed: `embeddings`, a list of vectors; never streamed. */
export const embedProfile: EndpointProfile = {
  endpoint: 'embed',
  streams: false,
  wantsStream: () => false,
  slots: [],
  isLoadRequest: (request) => request.input === undefined || request.input === '' || (Array.isArray(request.input) && request.input.length === 0),
  isAnswer: (r) => Array.isArray(r.embeddings) && r.embeddings.every(isVector),
  isStorable: (r) => Array.isArray(r.embeddings) && r.embeddings.length > 0,
  isFinal: () => true,
  errorOf,
  aggregate: (chunks) => chunks[chunks.length - 1] ?? {},
  split: (response) => [omit(response, ['model', 'created_at'])],
  stamp,
  relabel,
  answerFields,
  freshAnswer,
  shapeOf,
  savings: nativeSavings,
};

/** /api/embeddings (legacy): one `embedding` vector, no model echoed; never streamed. */
export const embeddingsProfile: EndpointProfile = {
  endpoint: 'embeddings',
  streams: false,
  wantsStream: () => false,
  slots: [],
  isLoadRequest: (request) => typeof request.prompt !== 'string' || request.prompt === '',
  isAnswer: (r) => Array.isArray(r.embedding),
  isStorable: (r) => Array.isArray(r.embedding) && r.embedding.length > 0,
  isFinal: () => true,
  errorOf,
  aggregate: (chunks) => chunks[chunks.length - 1] ?? {},
  split: (response) => [copyJson(response)],
  stamp: (chunk) => chunk,
  relabel: () => {},
  answerFields: () => ({}),
  freshAnswer: (response) => copyJson(response),
  shapeOf: (chunk) => copyJson(chunk),
  savings: () => undefined,
};

/** The native profiles by endpoint. */
export const NATIVE_PROFILES = { generate: generateProfile, chat: chatProfile, embed: embedProfile, embeddings: embeddingsProfile } as const;
