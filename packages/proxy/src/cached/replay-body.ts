/**
 * A streaming hit's whole body at once (NDJSON lines or SSE frames), instead of a chunk at a time
 * through an async iterator: a replay has nothing to wait for, so it leaves in one write.
 *
 * The body of a stored answer is the same for every caller but for the stamp (the caller's spelling
 * of the model, created_at / created, the id's serial). An answer seen again (a memory store hands
 * back the same object on every hit) gets a template: its body with those fields as holes, filled
 * per hit. A template is checked once against a body built the plain way, so a wire format that does
 * something the holes cannot follow falls back to building the body each time.
 */
import { type AnswerStamp, type EndpointProfile, likeGo, newStamp, type ReplaySource, type StoredResponse, storedChunks } from '@tinyllm/ollama-cached/engine';
import { chunkText } from './frames.js';

/** Replays larger than this (in characters) are streamed chunk by chunk, with backpressure, rather than held whole. */
export const MAX_WHOLE_REPLAY_CHARS = 1024 * 1024;
/** Replays up to this size (in characters) get a template, which lives as long as the stored answer: bounded so hot entries cost at most about this much more each. */
export const MAX_TEMPLATE_CHARS = 256 * 1024;

/** Replays of more chunks than this are streamed without building their body first (a store that decodes a new object per hit would build it on every hit). */
const MAX_WHOLE_REPLAY_CHUNKS = 5000;

// How many chunks a replay has: those it streamed in, or about one per few words of an answer recorded whole.
function chunkCount(stored: StoredResponse): number {
  const runs = stored.stream?.runs;
  if (runs === undefined) return JSON.stringify(stored.response).length / 16;
  let count = 0;
  for (let i = 1; i < runs.length; i += 2) count += runs[i] as number;
  return count;
}

type StampField = 'model' | 'createdAt' | 'created' | 'serial';

// A hole's slot: its field, and whether it is a whole JSON value (write the value's JSON) or sits
// inside a string (write its escaped text).
const FIELDS: readonly StampField[] = ['model', 'createdAt', 'created', 'serial'];
const SLOTS: ReadonlyArray<readonly [StampField, boolean]> = FIELDS.flatMap((field) => [[field, true] as const, [field, false] as const]);
const slotOf = (field: StampField, whole: boolean): number => FIELDS.indexOf(field) * 2 + (whole ? 0 : 1);

interface Template {
  /** The text between the holes: parts.length === holes.length + 1. */
  readonly parts: readonly string[];
  /** Each hole's slot (see SLOTS). */
  readonly holes: readonly number[];
}

// Per stored answer and wire variant (SSE with or without the usage frame): its template, 'plain'
// (build the body each time: too large for a template, or the check failed) or 'stream' (too large
// to write whole).
type Way = Template | 'plain' | 'stream';
const WAYS = new WeakMap<StoredResponse, Map<string, Way>>();
// Answers seen once: the second sighting makes the template (a store that decodes a new object per
// hit, such as Redis or SQLite, never pays for one).
const SEEN = new WeakSet<StoredResponse>();

const marker = (field: StampField): string => `\u0000tinyllm:${field}\u0000`;
// The hole stamp: each field a marker (a string where the wire has a number is fine: the template replaces it whole).
const HOLE_STAMP = {
  model: marker('model'),
  createdAt: marker('createdAt'),
  created: marker('created'),
  serial: marker('serial'),
} as unknown as AnswerStamp;
// The markers as JSON.stringify writes them, with the quotes around a whole-value hole.
const HOLES = /("?)\\u0000tinyllm:(model|createdAt|created|serial)\\u0000("?)/g;

function bodyOf(profile: EndpointProfile, source: ReplaySource, stamp: AnswerStamp, openai: boolean, includeUsage: boolean): string {
  let out = '';
  for (const stored of storedChunks(profile, source.stored)) {
    out += chunkText(profile, profile.stamp(stored, stamp), openai, includeUsage) ?? '';
  }
  return out;
}

function templateOf(text: string): Template {
  const parts: string[] = [];
  const holes: number[] = [];
  let last = 0;
  for (const match of text.matchAll(HOLES)) {
    const [all, before, field, after] = match as unknown as [string, string, StampField, string];
    const whole = before === '"' && after === '"';
    parts.push(text.slice(last, match.index) + (whole ? '' : before));
    holes.push(slotOf(field, whole));
    last = (match.index as number) + all.length - (whole ? 0 : after.length);
  }
  parts.push(text.slice(last));
  return { parts, holes };
}

function fill(template: Template, stamp: AnswerStamp): string {
  // Each field's text once, by slot (a replay has a few holes per chunk, hundreds in all).
  // Escaped as chunkText escapes the rest of the body (likeGo).
  const texts = SLOTS.map(([field, whole]) => likeGo(whole ? JSON.stringify(stamp[field]) : JSON.stringify(String(stamp[field])).slice(1, -1)));
  const { parts, holes } = template;
  let out = parts[0] as string;
  for (let i = 0; i < holes.length; i++) out += (texts[holes[i] as number] as string) + (parts[i + 1] as string);
  return out;
}

// How later hits of this answer get their body; `plain` is this hit's body built the plain way.
function wayOf(profile: EndpointProfile, source: ReplaySource, plain: string, openai: boolean, includeUsage: boolean, stamp: AnswerStamp): Way {
  if (plain.length > MAX_WHOLE_REPLAY_CHARS) return 'stream';
  if (plain.length > MAX_TEMPLATE_CHARS) return 'plain';
  const template = templateOf(bodyOf(profile, source, HOLE_STAMP, openai, includeUsage));
  return fill(template, stamp) === plain ? template : 'plain';
}

/**
 * The body of a streaming hit for this caller, or undefined when it is better streamed chunk by
 * chunk (a replay over MAX_WHOLE_REPLAY_CHARS, or one whose stored model is unknown). `stamp`: the
 * caller's labels (default: a new stamp for the caller's model).
 */
export function replayBody(
  profile: EndpointProfile,
  source: ReplaySource,
  openai: boolean,
  includeUsage: boolean,
  stamp: AnswerStamp | undefined = undefined,
): string | undefined {
  const { stored } = source;
  const model = source.model ?? (typeof stored.response.model === 'string' ? stored.response.model : undefined);
  if (model === undefined) return undefined;
  stamp ??= newStamp(model);
  const variant = openai ? (includeUsage ? 'sse+usage' : 'sse') : 'ndjson';
  const way = WAYS.get(stored)?.get(variant);
  if (way === 'stream' || (way === undefined && chunkCount(stored) > MAX_WHOLE_REPLAY_CHUNKS)) return undefined;
  if (way !== undefined && way !== 'plain') return fill(way, stamp);
  const plain = bodyOf(profile, source, stamp, openai, includeUsage);
  if (way === undefined) {
    if (!SEEN.has(stored)) SEEN.add(stored);
    else {
      let ways = WAYS.get(stored);
      if (ways === undefined) {
        ways = new Map();
        WAYS.set(stored, ways);
      }
      ways.set(variant, wayOf(profile, source, plain, openai, includeUsage, stamp));
    }
  }
  return plain.length <= MAX_WHOLE_REPLAY_CHARS ? plain : undefined;
}

/** The variants of a stored answer whose hits are filled from a template (for tests). */
export function templatedVariants(stored: StoredResponse): string[] {
  return [...(WAYS.get(stored) ?? new Map<string, Way>())].filter(([, way]) => typeof way === 'object').map(([variant]) => variant);
}
