import { INCOMPLETE_STREAM_MESSAGE, OllamaStreamError, OllamaTimeoutError, toOllamaError } from './errors.js';
import type { CachedEndpoint, JsonObject, StoredResponse } from './stored-response.js';
import { copyJson, nowIso } from './stored-response.js';
import { abortError, StreamIterator } from './stream-iterator.js';

/** A stream as the inner client returns it: async-iterable chunks plus abort(). */
export interface UpstreamStream {
  /** Cancels the HTTP request. */
  abort(): void;
  /** The chunks. */
  [Symbol.asyncIterator](): AsyncIterator<object>;
}

/** Rejection of a flight whose only consumer stopped reading: joiners retry instead of failing. */
export class FlightAbandonedError extends Error {
  constructor() {
    super('the request that was fetching this answer was aborted');
    this.name = 'FlightAbandonedError';
  }
}

/** Words per replayed chunk when a non-streaming answer is replayed as a stream. */
export const WORDS_PER_CHUNK = 4;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Splits text into pieces of a few words; joining the pieces gives the text back exactly. */
export function splitWords(value: string, perChunk = WORDS_PER_CHUNK): string[] {
  if (value === '') return [];
  const parts = value.split(/(?<=\s)(?=\S)/);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += perChunk) out.push(parts.slice(i, i + perChunk).join(''));
  return out;
}

function omit(object: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key in object) if (!keys.includes(key)) out[key] = object[key];
  return out;
}

/**
 * Joins a recorded stream into the answer a non-streaming call returns: text and thinking
 * concatenated, tool calls and logprobs collected, the final chunk's done_reason and metrics.
 */
export function aggregateChunks(endpoint: CachedEndpoint, chunks: readonly JsonObject[]): JsonObject {
  const last = chunks[chunks.length - 1] ?? {};
  const head = { model: last.model, created_at: last.created_at };
  const logprobs: unknown[] = [];
  const toolCalls: unknown[] = [];
  let content = '';
  let thinking = '';
  for (const chunk of chunks) {
    const source = endpoint === 'chat' ? (isObject(chunk.message) ? chunk.message : {}) : chunk;
    content += text(endpoint === 'chat' ? source.content : source.response);
    thinking += text(source.thinking);
    if (Array.isArray(source.tool_calls)) toolCalls.push(...source.tool_calls);
    if (Array.isArray(chunk.logprobs)) logprobs.push(...chunk.logprobs);
  }
  let out: JsonObject;
  if (endpoint === 'chat') {
    const role = chunks.map((c) => (isObject(c.message) ? c.message.role : undefined)).find((r) => typeof r === 'string') ?? 'assistant';
    const message: JsonObject = { role, content };
    if (thinking !== '') message.thinking = thinking;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    out = { ...head, message, ...omit(last, ['model', 'created_at', 'message', 'logprobs']) };
  } else {
    out = {
      ...head,
      response: content,
      ...(thinking === '' ? {} : { thinking }),
      ...omit(last, ['model', 'created_at', 'response', 'thinking', 'logprobs', 'tool_calls']),
    };
    if (toolCalls.length > 0) out.tool_calls = toolCalls;
  }
  if (logprobs.length > 0) out.logprobs = logprobs;
  return out;
}

/**
 * Splits a non-streaming answer into chunks of Ollama's shape: thinking, then text, a few words per
 * chunk (logprobs ride on the last text chunk), tool calls in a chunk of their own, and a final
 * `done: true` chunk with done_reason and the metrics and no text. model/created_at are left out.
 */
export function splitResponse(endpoint: CachedEndpoint, response: JsonObject): JsonObject[] {
  const chunks: JsonObject[] = [];
  const logprobs = Array.isArray(response.logprobs) ? response.logprobs : undefined;
  if (endpoint === 'chat') {
    const message = isObject(response.message) ? response.message : {};
    const role = typeof message.role === 'string' ? message.role : 'assistant';
    for (const piece of splitWords(text(message.thinking))) chunks.push({ message: { role, content: '', thinking: piece }, done: false });
    for (const piece of splitWords(text(message.content))) chunks.push({ message: { role, content: piece }, done: false });
    if (logprobs && chunks.length > 0) (chunks[chunks.length - 1] as JsonObject).logprobs = logprobs;
    if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
      chunks.push({ message: { role, content: '', tool_calls: message.tool_calls }, done: false });
    }
    chunks.push({ message: { role, content: '' }, ...omit(response, ['model', 'created_at', 'message', 'logprobs']), done: true });
  } else {
    for (const piece of splitWords(text(response.thinking))) chunks.push({ response: '', thinking: piece, done: false });
    for (const piece of splitWords(text(response.response))) chunks.push({ response: piece, done: false });
    if (logprobs && chunks.length > 0) (chunks[chunks.length - 1] as JsonObject).logprobs = logprobs;
    if (Array.isArray(response.tool_calls) && response.tool_calls.length > 0) {
      chunks.push({ response: '', tool_calls: response.tool_calls, done: false });
    }
    chunks.push({ response: '', ...omit(response, ['model', 'created_at', 'response', 'thinking', 'logprobs', 'tool_calls']), done: true });
  }
  return chunks;
}

/**
 * The chunks a streaming hit replays, as fresh objects: the recorded ones, or the non-streaming
 * answer split up. `model` is echoed as the caller spelled it and created_at is the current time.
 */
export function replayChunks(value: StoredResponse, model: string | undefined): JsonObject[] {
  const stored = value.chunks ?? splitResponse(value.endpoint, value.response);
  const echoed = model ?? value.response.model;
  return stored.map((chunk) => ({ model: echoed, created_at: nowIso(), ...copyJson(chunk) }));
}

/** A stream that replays a stored answer (see replayChunks); abort() stops it with an AbortError. */
export function replayStream(value: StoredResponse, model: string | undefined, onEnd?: () => void): StreamIterator<JsonObject> {
  const chunks = replayChunks(value, model);
  return new StreamIterator<JsonObject>(async function* (signal) {
    try {
      for (const chunk of chunks) {
        if (signal.aborted) throw signal.reason ?? abortError();
        yield chunk;
      }
    } finally {
      onEnd?.();
    }
  }, onEnd);
}

/**
 * Records a live upstream stream while one consumer reads it. A pump reads the upstream at its own
 * pace (so the answer completes and is stored even if the consumer is slow or never reads), and
 * `completion` resolves with the StoredResponse once a `done: true` chunk arrived; it rejects on a
 * mid-stream error, a stream that ends without done, or an abandoned stream (consumer aborted or
 * left the loop early: FlightAbandonedError, so single-flight joiners retry).
 */
export class StreamRecorder {
  /** Resolves with the complete answer and its chunks; rejects when the stream did not complete. */
  readonly completion: Promise<StoredResponse>;
  readonly #endpoint: CachedEndpoint;
  readonly #upstream: UpstreamStream;
  readonly #host: string;
  readonly #live: JsonObject[] = [];
  readonly #records: JsonObject[] = [];
  readonly #idleTimeoutMs: number | undefined;
  #state: 'open' | 'done' | 'failed' = 'open';
  #error: unknown;
  #abandoned = false;
  #wake: (() => void) | undefined;
  #resolve!: (value: StoredResponse) => void;
  #reject!: (error: unknown) => void;

  constructor(upstream: UpstreamStream, endpoint: CachedEndpoint, host: string, idleTimeoutMs?: number) {
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#upstream = upstream;
    this.#endpoint = endpoint;
    this.#host = host;
    this.completion = new Promise<StoredResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.completion.catch(() => {});
    void this.#pump();
  }

  /** Stops recording: aborts the upstream request; completion rejects with FlightAbandonedError. */
  abandon(): void {
    if (this.#state !== 'open' || this.#abandoned) return;
    this.#abandoned = true;
    this.#upstream.abort();
    this.#notify();
  }

  /**
   * The consumer's view: chunks as they arrive. Before handing over the final chunk it awaits
   * beforeDone (the flight settling: the answer is handed to the cache, whose write then runs in
   * the background). Leaving the loop before the final chunk abandons the recording.
   */
  async *read(signal: AbortSignal, beforeDone: () => Promise<unknown>): AsyncGenerator<JsonObject, void, undefined> {
    let index = 0;
    let finished = false;
    const onAbort = (): void => this.#notify();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason ?? abortError();
        const chunk = this.#live[index];
        if (chunk !== undefined) {
          index++;
          if (chunk.done === true) {
            await beforeDone();
            finished = true;
            yield chunk;
            return;
          }
          yield chunk;
          continue;
        }
        if (this.#state === 'failed') throw this.#error;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!finished) this.abandon();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  // The next chunk, or an OllamaTimeoutError when the upstream stays silent for idleTimeoutMs: a
  // stalled stream must not hold its consumer, and the callers waiting on it, forever.
  async #next(iterator: AsyncIterator<unknown>): Promise<IteratorResult<unknown>> {
    const idleMs = this.#idleTimeoutMs;
    if (idleMs === undefined) return iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#upstream.abort();
        reject(new OllamaTimeoutError(idleMs, this.#host));
      }, idleMs);
    });
    try {
      return await Promise.race([iterator.next(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #pump(): Promise<void> {
    const iterator = this.#upstream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await this.#next(iterator);
        if (this.#abandoned) throw abortError();
        if (step.done) throw new OllamaStreamError('incomplete', INCOMPLETE_STREAM_MESSAGE);
        const chunk = step.value as JsonObject;
        this.#live.push(chunk);
        this.#records.push(copyJson(chunk));
        if (chunk.done === true) {
          // Let the upstream iterator finish its own bookkeeping (ollama-js deregisters the stream then).
          await iterator.next().catch(() => {});
          this.#state = 'done';
          const response = aggregateChunks(this.#endpoint, this.#records);
          const chunks = this.#records.map((record) => omit(record, ['model', 'created_at']));
          this.#resolve({ v: 1, endpoint: this.#endpoint, response, chunks });
          this.#notify();
          return;
        }
        this.#notify();
      }
    } catch (error) {
      this.#state = 'failed';
      this.#error = toOllamaError(error, this.#host, true);
      this.#reject(this.#abandoned ? new FlightAbandonedError() : this.#error);
      this.#notify();
    }
  }
}
