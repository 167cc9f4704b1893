import type { Savings } from '@tinyllm/cache-core';
import type { JsonObject } from './json.js';

/** The endpoints whose answers are cached (embeddings is the legacy /api/embeddings). */
export type CachedEndpoint = 'generate' | 'chat' | 'embed' | 'embeddings';

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
 * What the engine needs to know about one endpoint's wire format: which requests it caches, what a
 * complete answer looks like, how chunks join into an answer and split back into chunks, and which
 * fields a replay refreshes. Everything format-specific lives behind this interface, so the engine
 * itself never looks inside a request or an answer.
 */
export interface EndpointProfile {
  /** The endpoint. */
  readonly endpoint: CachedEndpoint;
  /** Whether answers of this endpoint can stream. */
  readonly streams: boolean;
  /** The text slots of a chunk, in the order a replay emits them (thinking before text). */
  readonly slots: readonly TextSlot[];
  /** Requests that only load or unload a model: answered, never cached. */
  isLoadRequest(request: JsonObject): boolean;
  /** A whole answer of this endpoint's shape (generate: a `response` string and `done: true`...). */
  isAnswer(response: JsonObject): boolean;
  /** A complete answer that may be stored (not a load reply, embeddings present). */
  isStorable(response: JsonObject): boolean;
  /** The chunk that ends a stream. */
  isFinal(chunk: JsonObject): boolean;
  /** The message of an error chunk (`{"error": "..."}`), else undefined. */
  errorOf(chunk: JsonObject): string | undefined;
  /** Joins a stream's chunks into the answer a non-streaming call gets. */
  aggregate(chunks: readonly JsonObject[]): JsonObject;
  /** Splits a whole answer into chunks of the stream's shape, without the fields freshChunk sets. */
  split(response: JsonObject): JsonObject[];
  /**
   * A replayed chunk: a new object with `model` as the caller spelled it and `created_at` first, as
   * Ollama orders them, then the chunk's other fields (shallow: pass a chunk that is already yours).
   */
  stamp(chunk: JsonObject, model: string | undefined, createdAt: string): JsonObject;
  /** A caller's copy of a stored answer, with the same refreshed fields (a deep copy). */
  freshAnswer(response: JsonObject, model: string | undefined): JsonObject;
  /** What a hit on this answer saved upstream. */
  savings(response: JsonObject): Savings | undefined;
}
