import type { Savings } from '@tinyllm/cache-core';
import { copyJson, isObject, type JsonObject, text } from './json.js';
import { splitWords } from './native-profiles.js';
import { type AnswerStamp, type EndpointProfile, stampedCopy, type TextSlot } from './profile.js';

/** The chunk that stands for the `data: [DONE]` event ending an OpenAI-style stream. */
export const DONE_EVENT: Readonly<JsonObject> = Object.freeze({ '[DONE]': true });

/** True for the `[DONE]` event. */
export const isDoneEvent = (chunk: JsonObject): boolean => chunk['[DONE]'] === true;

const firstChoice = (chunk: JsonObject): JsonObject | undefined =>
  Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? (chunk.choices[0] as JsonObject) : undefined;

const isUsageFrame = (chunk: JsonObject): boolean => Array.isArray(chunk.choices) && chunk.choices.length === 0 && isObject(chunk.usage);

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function usageSavings(response: JsonObject): Savings | undefined {
  return isObject(response.usage) ? { tokens: num(response.usage.total_tokens) } : undefined;
}

// Streams are asked for explicitly on /v1.
const streamsWhenTrue = (request: JsonObject): boolean => request.stream === true;

// id, created and model are every answer's own: a track keeps their places (so a replay writes
// them where Ollama does) but not their values.
function shapeOf(chunk: JsonObject): JsonObject {
  const out = copyJson(chunk);
  for (const key of ['id', 'created', 'model']) if (key in out) out[key] = null;
  return out;
}

function stamper(prefix: string): Pick<EndpointProfile, 'stamp' | 'relabel' | 'answerFields' | 'freshAnswer'> {
  const id = (stamp: AnswerStamp): string => `${prefix}-${stamp.serial}`;
  const answerFields = (stamp: AnswerStamp): JsonObject => ({ id: id(stamp), created: stamp.created, model: stamp.model });
  return {
    stamp(chunk, stamp) {
      const out: JsonObject = { ...chunk };
      if ('id' in out) out.id = id(stamp);
      if ('created' in out) out.created = stamp.created;
      if ('model' in out && stamp.model !== undefined) out.model = stamp.model;
      return out;
    },
    relabel(chunk, stamp) {
      if ('id' in chunk) chunk.id = id(stamp);
      // A mid-stream error frame carries an empty model: it stays empty, as Ollama sent it.
      if (stamp.model !== undefined && typeof chunk.model === 'string' && chunk.model !== '') chunk.model = stamp.model;
    },
    answerFields,
    freshAnswer: (response, stamp) => stampedCopy(response, answerFields(stamp)),
  };
}

// The usage frame a stream ends with, and the [DONE] event after it.
function tail(frame: (choices: unknown[]) => JsonObject, usage: unknown): JsonObject[] {
  const last = frame([]);
  last.usage = isObject(usage) ? copyJson(usage) : { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  return [last, { ...DONE_EVENT }];
}

function finishOf(chunks: readonly JsonObject[]): unknown {
  let reason: unknown = null;
  for (const chunk of chunks) {
    const choice = firstChoice(chunk);
    if (choice && choice.finish_reason !== null && choice.finish_reason !== undefined) reason = choice.finish_reason;
  }
  return reason;
}

function usageOf(chunks: readonly JsonObject[]): unknown {
  let usage: unknown;
  for (const chunk of chunks) if (isUsageFrame(chunk)) usage = chunk.usage;
  return usage;
}

function logprobsOf(chunks: readonly JsonObject[]): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) {
    const logprobs = firstChoice(chunk)?.logprobs;
    if (isObject(logprobs) && Array.isArray(logprobs.content)) out.push(...logprobs.content);
  }
  return out;
}

const deltaSlot = (field: string): TextSlot => ({
  get: (chunk) => {
    const delta = firstChoice(chunk)?.delta;
    return isObject(delta) && typeof delta[field] === 'string' ? (delta[field] as string) : undefined;
  },
  set: (chunk, value) => {
    ((firstChoice(chunk) as JsonObject).delta as JsonObject)[field] = value;
  },
  whole: (response) => {
    const message = firstChoice(response)?.message;
    return isObject(message) ? text(message[field]) : '';
  },
});

const STORABLE_FINISH = new Set(['stop', 'length', 'tool_calls']);

/**
 * /v1/chat/completions, as Ollama's OpenAI layer sends it: Server-Sent Events of
 * `chat.completion.chunk` frames (the role in the first delta, content and reasoning deltas, tool
 * calls in a frame of their own, a finish frame, a usage frame, then `[DONE]`), or one
 * `chat.completion` object.
 */
export const openaiChatProfile: EndpointProfile = {
  endpoint: 'v1/chat/completions',
  streams: true,
  slots: [deltaSlot('reasoning'), deltaSlot('content')],
  wantsStream: streamsWhenTrue,
  isLoadRequest: () => false,
  isAnswer: (r) => {
    const message = firstChoice(r)?.message;
    return r.object === 'chat.completion' && isObject(message) && (typeof message.content === 'string' || message.content === null);
  },
  isStorable: (r) => STORABLE_FINISH.has(firstChoice(r)?.finish_reason as string),
  isFinal: isDoneEvent,
  errorOf: () => undefined,
  aggregate(chunks) {
    const frames = chunks.filter((chunk) => Array.isArray(chunk.choices));
    const first = frames[0] ?? {};
    let role: unknown;
    let content = '';
    let reasoning = '';
    const toolCalls: unknown[] = [];
    for (const frame of frames) {
      const delta = firstChoice(frame)?.delta;
      if (!isObject(delta)) continue;
      role ??= delta.role;
      content += text(delta.content);
      reasoning += text(delta.reasoning);
      if (Array.isArray(delta.tool_calls)) toolCalls.push(...delta.tool_calls);
    }
    const message: JsonObject = { role: role ?? 'assistant', content };
    if (reasoning !== '') message.reasoning = reasoning;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    const choice: JsonObject = { index: 0, message, finish_reason: finishOf(frames) };
    const logprobs = logprobsOf(frames);
    if (logprobs.length > 0) choice.logprobs = { content: logprobs };
    return {
      id: first.id,
      object: 'chat.completion',
      created: first.created,
      model: first.model,
      system_fingerprint: first.system_fingerprint ?? 'fp_ollama',
      choices: [choice],
      usage: copyJson(usageOf(frames)) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    };
  },
  split(response) {
    const choice = firstChoice(response) ?? {};
    const message = isObject(choice.message) ? choice.message : {};
    const fingerprint = response.system_fingerprint ?? 'fp_ollama';
    const frame = (choices: unknown[]): JsonObject => ({
      id: null,
      object: 'chat.completion.chunk',
      created: null,
      model: null,
      system_fingerprint: fingerprint,
      choices,
    });
    const out: JsonObject[] = [];
    let opened = false;
    const delta = (fields: JsonObject): JsonObject => {
      const withRole = opened ? fields : { role: message.role ?? 'assistant', ...fields };
      opened = true;
      return frame([{ index: 0, delta: withRole, finish_reason: null }]);
    };
    for (const piece of splitWords(text(message.reasoning))) out.push(delta({ content: '', reasoning: piece }));
    for (const piece of splitWords(text(message.content))) out.push(delta({ content: piece }));
    const lastContent = out[out.length - 1];
    if (choice.logprobs !== undefined && lastContent !== undefined)
      ((lastContent.choices as JsonObject[])[0] as JsonObject).logprobs = copyJson(choice.logprobs);
    if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) out.push(delta({ content: '', tool_calls: copyJson(message.tool_calls) }));
    if (!opened) out.push(delta({ content: '' }));
    out.push(frame([{ index: 0, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }]));
    out.push(...tail(frame, response.usage));
    return out;
  },
  shapeOf,
  ...stamper('chatcmpl'),
  savings: usageSavings,
};

const textSlot: TextSlot = {
  get: (chunk) => {
    const choice = firstChoice(chunk);
    return choice && typeof choice.text === 'string' ? choice.text : undefined;
  },
  set: (chunk, value) => {
    (firstChoice(chunk) as JsonObject).text = value;
  },
  whole: (response) => text(firstChoice(response)?.text),
};

/**
 * /v1/completions: `text_completion` frames (choices before model, `finish_reason` on the last text
 * frame; with include_usage every frame carries zero usage and a usage frame follows), or one
 * `text_completion` object.
 */
export const openaiCompletionsProfile: EndpointProfile = {
  endpoint: 'v1/completions',
  streams: true,
  slots: [textSlot],
  wantsStream: streamsWhenTrue,
  // An empty prompt only loads the model (finish_reason "load").
  isLoadRequest: (request) => typeof request.prompt !== 'string' || request.prompt === '',
  isAnswer: (r) => r.object === 'text_completion' && typeof firstChoice(r)?.text === 'string',
  isStorable: (r) => STORABLE_FINISH.has(firstChoice(r)?.finish_reason as string),
  isFinal: isDoneEvent,
  errorOf: () => undefined,
  aggregate(chunks) {
    const frames = chunks.filter((chunk) => Array.isArray(chunk.choices));
    const first = frames[0] ?? {};
    let body = '';
    for (const frame of frames) body += text(firstChoice(frame)?.text);
    const choice: JsonObject = { text: body, index: 0, finish_reason: finishOf(frames) };
    const logprobs = logprobsOf(frames);
    if (logprobs.length > 0) choice.logprobs = { content: logprobs };
    return {
      id: first.id,
      object: 'text_completion',
      created: first.created,
      model: first.model,
      system_fingerprint: first.system_fingerprint ?? 'fp_ollama',
      choices: [choice],
      usage: copyJson(usageOf(frames)) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    };
  },
  split(response) {
    const choice = firstChoice(response) ?? {};
    const fingerprint = response.system_fingerprint ?? 'fp_ollama';
    const frame = (choices: unknown[]): JsonObject => ({
      id: null,
      object: 'text_completion',
      created: null,
      choices,
      model: null,
      system_fingerprint: fingerprint,
    });
    const out = splitWords(text(choice.text)).map((piece) => frame([{ text: piece, index: 0, finish_reason: null }]));
    out.push(frame([{ text: '', index: 0, finish_reason: choice.finish_reason ?? 'stop' }]));
    out.push(...tail(frame, response.usage));
    return out;
  },
  shapeOf,
  ...stamper('cmpl'),
  savings: usageSavings,
};

/** /v1/embeddings: one `list` of `embedding` objects; never streamed. */
export const openaiEmbeddingsProfile: EndpointProfile = {
  endpoint: 'v1/embeddings',
  streams: false,
  slots: [],
  wantsStream: () => false,
  isLoadRequest: () => false,
  isAnswer: (r) => r.object === 'list' && Array.isArray(r.data),
  isStorable: (r) => Array.isArray(r.data) && r.data.length > 0,
  isFinal: () => true,
  errorOf: () => undefined,
  aggregate: (chunks) => chunks[chunks.length - 1] ?? {},
  split: (response) => [copyJson(response)],
  shapeOf: (chunk) => copyJson(chunk),
  stamp: (chunk, { model }) => (model !== undefined && 'model' in chunk ? { ...chunk, model } : chunk),
  relabel: () => {},
  answerFields: ({ model }) => ({ model }),
  freshAnswer: (response, { model }) => stampedCopy(response, { model }),
  savings: usageSavings,
};

/**
 * A frame as one streaming /v1 caller asked for it: the usage frame (and, on /v1/completions, the
 * zero usage every frame carries) only when it asked for `stream_options.include_usage`. Returns
 * undefined for a frame this caller does not get. The recorded stream always has usage (the proxy
 * asks Ollama for it), so one entry serves callers that want it and callers that do not.
 */
export function frameFor(profile: EndpointProfile, frame: JsonObject, includeUsage: boolean): JsonObject | undefined {
  if (isDoneEvent(frame)) return frame;
  if (isUsageFrame(frame)) return includeUsage ? frame : undefined;
  if (profile.endpoint !== 'v1/completions' || !Array.isArray(frame.choices)) return frame;
  if (!includeUsage) {
    if (!('usage' in frame)) return frame;
    const { usage: _dropped, ...rest } = frame;
    return rest;
  }
  return 'usage' in frame ? frame : { ...frame, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
}

/** The /v1 profiles by endpoint. */
export const OPENAI_PROFILES = {
  'v1/chat/completions': openaiChatProfile,
  'v1/completions': openaiCompletionsProfile,
  'v1/embeddings': openaiEmbeddingsProfile,
} as const;
