import type { CacheEndpoint, Savings } from '@tinyllm/cache-core';
import { copyJson, type JsonObject } from './json.js';

/** The endpoints whose answers are cached: Ollama's native ones and its OpenAI-compatible /v1 ones. */
export type CachedEndpoint = CacheEndpoint;

/** Where one piece of streamed text lives in a chunk (generate: `response`; chat: `message.content`...). */
export interface TextSlot {
  /** The slot's text in a chunk, or undefined when the chunk has no such field. */
  get(chunk: JsonObject): string | undefined;
  /** Sets the slot's text in a chunk that has the field. */
  set(chunk: JsonObject, value: string): void;
  /** The slot's whole text in the aggregated answer. */
  whole(response: JsonObject): string;
}

/**
 * What one caller's copy of an answer carries of its own: the model as it spelled it, and the
 * identity a new answer gets (Ollama's created_at; an OpenAI id and created). One per replayed
 * answer, so every chunk of it agrees.
 */
export interface AnswerStamp {
  /** The model as the caller spelled it (Ollama echoes the request's spelling); undefined keeps the stored one. */
  readonly model: string | undefined;
  /** Now, as Ollama writes created_at (RFC 3339, UTC). */
  readonly createdAt: string;
  /** Now, in Unix seconds (OpenAI's `created`). */
  readonly created: number;
  /** A random serial for ids (Ollama's /v1 uses chatcmpl-0..998). */
  readonly serial: number;
}

// Formatting a date costs more than the rest of a hit's bookkeeping: reuse it within a millisecond.
let lastMs = 0;
let lastIso = new Date(0).toISOString();

/** A deep copy of an answer with the profile's answerFields set (those the answer has). */
export function stampedCopy(response: JsonObject, fields: Readonly<JsonObject>): JsonObject {
  const copy = copyJson(response);
  for (const name in fields) if (name in copy && fields[name] !== undefined) copy[name] = fields[name];
  return copy;
}

/** A stamp for one answer: the caller's spelling of the model and a fresh identity. */
export function newStamp(model: string | undefined): AnswerStamp {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return { model, createdAt: lastIso, created: Math.floor(now / 1000), serial: Math.floor(Math.random() * 999) };
}

/**
 * What the engine needs to know about one endpoint's wire format: which requests it caches, what a
 * complete answer looks like, how chunks join into an answer and split back into chunks, and which
 * fields each caller gets afresh. Everything format-specific lives behind this interface, so the
 * engine never looks inside a request or an answer.
 */
export interface EndpointProfile {
  /** The endpoint. */
  readonly endpoint: CachedEndpoint;
  /** Whether answers of this endpoint can stream. */
  readonly streams: boolean;
  /** The text slots of a chunk, in the order a replay emits them (thinking before text). */
  readonly slots: readonly TextSlot[];
  /** Whether a request asks for a stream (Ollama's native API streams unless `stream: false`; /v1 only with `stream: true`). */
  wantsStream(request: JsonObject): boolean;
  /** Requests that only load or unload a model: answered, never cached. */
  isLoadRequest(request: JsonObject): boolean;
  /** A whole answer of this endpoint's shape (generate: a `response` string and `done: true`...). */
  isAnswer(response: JsonObject): boolean;
  /** A complete answer that may be stored (not a load reply, embeddings present, a finish reason). */
  isStorable(response: JsonObject): boolean;
  /** The chunk that ends a stream (native: `done: true`; /v1: the `[DONE]` event). */
  isFinal(chunk: JsonObject): boolean;
  /** The message of an error chunk (`{"error": "..."}`), else undefined. */
  errorOf(chunk: JsonObject): string | undefined;
  /** Joins a stream's chunks into the answer a non-streaming call gets. */
  aggregate(chunks: readonly JsonObject[]): JsonObject;
  /** Splits a whole answer into chunks of the stream's shape (as shapeOf leaves them). */
  split(response: JsonObject): JsonObject[];
  /** A recorded chunk as a stream track keeps it: a copy without the fields every answer gets afresh. */
  shapeOf(chunk: JsonObject): JsonObject;
  /** A replayed chunk: a new object with the stamp's fields where the wire format puts them (shallow: pass your own chunk). */
  stamp(chunk: JsonObject, stamp: AnswerStamp): JsonObject;
  /** A live chunk given to a caller that joined another's call: its own spelling of the model and id (mutates a copy). */
  relabel(chunk: JsonObject, stamp: AnswerStamp): void;
  /**
   * The top-level fields a whole answer gets afresh for a caller (native: `model` and `created_at`;
   * /v1: `id`, `created` and `model`), with their values for this stamp. Only the ones the answer has
   * are set. A front door that serialises answers itself uses it to fill a template.
   */
  answerFields(stamp: AnswerStamp): Readonly<JsonObject>;
  /** A caller's copy of a stored answer, stamped (a deep copy with answerFields set). */
  freshAnswer(response: JsonObject, stamp: AnswerStamp): JsonObject;
  /** What a hit on this answer saved upstream. */
  savings(response: JsonObject): Savings | undefined;
}
