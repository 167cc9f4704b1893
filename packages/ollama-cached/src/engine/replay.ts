import { abortError, StreamIterator } from '../stream-iterator.js';
import type { JsonObject } from './json.js';
import { type EndpointProfile, newStamp } from './profile.js';
import { type StoredResponse, storedChunks } from './stored-response.js';

/**
 * The chunks a streaming hit replays, as fresh objects in the model's own shape: rebuilt from how
 * the answer streamed, or the non-streaming answer split into a few words per chunk. `model` is
 * echoed as the caller spelled it and created_at is now.
 */
export function replayChunks(profile: EndpointProfile, stored: StoredResponse, model: string | undefined): JsonObject[] {
  const stamp = newStamp(model ?? (typeof stored.response.model === 'string' ? stored.response.model : undefined));
  return storedChunks(profile, stored, stamp);
}

/** What a replay is made from: the stored answer and the caller's spelling of the model (see replayChunks). */
export interface ReplaySource {
  /** The stored answer (shared with the cache: never mutate it). */
  readonly stored: StoredResponse;
  /** The model as the caller spelled it; undefined keeps the stored one. */
  readonly model: string | undefined;
}

/** A stream that replays a stored answer (see replayChunks); abort() stops it with an AbortError. */
export function replayStream(profile: EndpointProfile, stored: StoredResponse, model: string | undefined): StreamIterator<JsonObject> {
  return new StreamIterator<JsonObject>(async function* (signal) {
    // Built on the first read: a front door that writes the replay from its ReplaySource never reads.
    const chunks = replayChunks(profile, stored, model);
    for (const chunk of chunks) {
      if (signal.aborted) throw signal.reason ?? abortError();
      yield chunk;
    }
  });
}
