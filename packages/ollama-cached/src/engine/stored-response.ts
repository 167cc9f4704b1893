import { copyJson, isObject, type JsonObject } from './json.js';
import type { AnswerStamp, CachedEndpoint, EndpointProfile } from './profile.js';

/** Format version of the records this package writes. */
export const STORED_RESPONSE_VERSION = 2;

/**
 * How an answer streamed, without repeating its text: each chunk is one of a few distinct shapes
 * (the chunk with its text slots emptied) plus the length of each slot's text in that chunk. The
 * text itself is stored once, in the aggregated answer. A 670 KB answer of 100,000 chunks costs a
 * few bytes per chunk instead of a JSON object per chunk.
 */
export interface StreamTrack {
  /** The distinct chunk shapes (text slots emptied), in order of first use. */
  shapes: JsonObject[];
  /** The shape of every chunk, run-length encoded: [shape index, run length, shape index, run length, ...]. */
  runs: number[];
  /** Per text slot (the profile's order): the length of that slot's text in each chunk; [] when the slot is empty throughout. */
  lengths: number[][];
}

/** What one cache entry holds: the final answer, plus how it streamed when it came from a stream. */
export interface StoredResponse {
  /** Format version of this record. */
  v: typeof STORED_RESPONSE_VERSION;
  /** The endpoint that produced the answer. */
  endpoint: CachedEndpoint;
  /** The complete answer, as a non-streaming call returns it (text joined, final metrics). */
  response: JsonObject;
  /** How the answer streamed; absent for answers recorded from a non-streaming call. */
  stream?: StreamTrack;
  /** How long the model took to answer, in ms (from the request to the last byte), as measured when recorded. */
  elapsedMs?: number;
}

const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0;

function isTrack(value: unknown, slots: number): value is StreamTrack {
  if (!isObject(value)) return false;
  const { shapes, runs, lengths } = value;
  if (!Array.isArray(shapes) || !shapes.every(isObject)) return false;
  if (!Array.isArray(runs) || runs.length % 2 !== 0 || !runs.every(isCount)) return false;
  return Array.isArray(lengths) && lengths.length === slots && lengths.every((list) => Array.isArray(list));
}

/**
 * Whether a value read from the cache is a record this version can serve for `profile`'s endpoint:
 * the right format version and endpoint, and an answer of that endpoint's shape (generate: a
 * `response` string and `done: true`...). Anything else (a foreign value, another endpoint's record,
 * `{"foo":1}`) is a miss plus a counted error, never a hit.
 */
export function isStoredResponseFor(value: unknown, profile: EndpointProfile): value is StoredResponse {
  if (!isObject(value) || value.v !== STORED_RESPONSE_VERSION || value.endpoint !== profile.endpoint) return false;
  if (!isObject(value.response) || !profile.isAnswer(value.response)) return false;
  if (value.elapsedMs !== undefined && typeof value.elapsedMs !== 'number') return false;
  return value.stream === undefined || isTrack(value.stream, profile.slots.length);
}

/** Records an answer that arrived whole (a non-streaming call). */
export function storeWhole(profile: EndpointProfile, response: JsonObject): StoredResponse {
  return { v: STORED_RESPONSE_VERSION, endpoint: profile.endpoint, response };
}

/** Records a completed stream: its aggregated answer plus the track to replay it chunk by chunk. */
export function storeStream(profile: EndpointProfile, chunks: readonly JsonObject[]): StoredResponse {
  const response = profile.aggregate(chunks);
  const shapes: JsonObject[] = [];
  const shapeIndex = new Map<string, number>();
  const runs: number[] = [];
  const lengths: number[][] = profile.slots.map(() => []);
  const used = profile.slots.map(() => false);
  for (const chunk of chunks) {
    const shape = profile.shapeOf(chunk);
    profile.slots.forEach((slot, i) => {
      const piece = slot.get(chunk);
      (lengths[i] as number[]).push(piece?.length ?? 0);
      if (piece !== undefined && piece !== '') used[i] = true;
      if (piece !== undefined) slot.set(shape, '');
    });
    const signature = JSON.stringify(shape);
    let index = shapeIndex.get(signature);
    if (index === undefined) {
      index = shapes.length;
      shapes.push(shape);
      shapeIndex.set(signature, index);
    }
    if (runs.length > 0 && runs[runs.length - 2] === index) (runs[runs.length - 1] as number)++;
    else runs.push(index, 1);
  }
  used.forEach((isUsed, i) => {
    if (!isUsed) lengths[i] = [];
  });
  return { v: STORED_RESPONSE_VERSION, endpoint: profile.endpoint, response, stream: { shapes, runs, lengths } };
}

/**
 * The chunks of a stored answer, as fresh objects in the shape a track keeps them (profile.stamp
 * completes them), or already stamped with `stamp`: rebuilt from the track when the answer was
 * recorded from a stream, else the answer split up.
 * A track that does not add up to the stored text (a damaged record) falls back to the split.
 */
export function storedChunks(profile: EndpointProfile, stored: StoredResponse, stamp?: AnswerStamp): JsonObject[] {
  const track = stored.stream;
  const split = (): JsonObject[] => {
    const chunks = profile.split(stored.response);
    return stamp === undefined ? chunks : chunks.map((chunk) => profile.stamp(chunk, stamp));
  };
  if (track === undefined) return split();
  return rebuild(profile, stored.response, track, stamp) ?? split();
}

// A fresh chunk of a shape: a deep copy, or (with a stamp) the stamped chunk with its nested
// objects copied, one object per level instead of a copy and then a stamped copy of it.
function fromShape(profile: EndpointProfile, shape: JsonObject, stamp: AnswerStamp | undefined): JsonObject {
  if (stamp === undefined) return copyJson(shape);
  const chunk = profile.stamp(shape, stamp);
  for (const key in chunk) {
    const value = chunk[key];
    if (typeof value === 'object' && value !== null) chunk[key] = copyJson(value);
  }
  return chunk;
}

function rebuild(profile: EndpointProfile, response: JsonObject, track: StreamTrack, stamp: AnswerStamp | undefined): JsonObject[] | undefined {
  const texts = profile.slots.map((slot) => slot.whole(response));
  const offsets = profile.slots.map(() => 0);
  const out: JsonObject[] = [];
  for (let r = 0; r < track.runs.length; r += 2) {
    const shape = track.shapes[track.runs[r] as number];
    const count = track.runs[r + 1] as number;
    if (shape === undefined) return undefined;
    for (let c = 0; c < count; c++) {
      const chunk = fromShape(profile, shape, stamp);
      const index = out.length;
      for (let s = 0; s < profile.slots.length; s++) {
        const slot = profile.slots[s] as (typeof profile.slots)[number];
        if (slot.get(chunk) === undefined) continue;
        const list = track.lengths[s] as number[];
        const length = list.length === 0 ? 0 : list[index];
        if (length === undefined) return undefined;
        const start = offsets[s] as number;
        slot.set(chunk, (texts[s] as string).slice(start, start + length));
        offsets[s] = start + length;
      }
      out.push(chunk);
    }
  }
  for (let s = 0; s < texts.length; s++) if (offsets[s] !== (texts[s] as string).length) return undefined;
  return out;
}
