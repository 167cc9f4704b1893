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

/** Holes with the same text between them in every chunk (`"created":` between the id and the created), filled once per hit. */
interface Run {
  /** Each hole's slot (see SLOTS). */
  readonly holes: readonly number[];
  /** The text between consecutive holes: glue.length === holes.length - 1. */
  readonly glue: readonly string[];
}

interface Template {
  /** The text around the runs, chunk text mostly: literals.length === at.length + 1. */
  readonly literals: readonly string[];
  /** The run between literals[i] and literals[i + 1], as an index into `runs`. */
  readonly at: readonly number[];
  /** The distinct runs: usually one, the same few fields in every chunk. */
  readonly runs: readonly Run[];
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
  return withRuns(parts, holes);
}

/**
 * Groups the holes into runs. A text between two holes that recurs in most chunks (the text between
 * a chunk's id, created and model) is glue inside a run; any other (the chunk's own text) ends one.
 * A 250-chunk replay then has 250 literals around one run rather than 1,000 pieces around 750 holes.
 */
function withRuns(parts: readonly string[], holes: readonly number[]): Template {
  const seen = new Map<string, number>();
  let most = 0;
  for (let i = 1; i < holes.length; i++) {
    const count = (seen.get(parts[i] as string) ?? 0) + 1;
    seen.set(parts[i] as string, count);
    most = Math.max(most, count);
  }
  const isGlue = (part: string): boolean => 2 * (seen.get(part) ?? 0) > most;
  const literals = [parts[0] as string];
  const at: number[] = [];
  const runs: Run[] = [];
  const runIndex = new Map<string, number>();
  for (let i = 0; i < holes.length; ) {
    const run = { holes: [holes[i] as number], glue: [] as string[] };
    i++;
    while (i < holes.length && isGlue(parts[i] as string)) {
      run.glue.push(parts[i] as string);
      run.holes.push(holes[i] as number);
      i++;
    }
    const id = JSON.stringify(run);
    let index = runIndex.get(id);
    if (index === undefined) {
      index = runs.push(run) - 1;
      runIndex.set(id, index);
    }
    at.push(index);
    literals.push(parts[i] as string);
  }
  return { literals, at, runs };
}

function fill(template: Template, stamp: AnswerStamp): string {
  // Each field's text once, by slot; escaped as chunkText escapes the rest of the body (likeGo).
  const texts = SLOTS.map(([field, whole]) => likeGo(whole ? JSON.stringify(stamp[field]) : JSON.stringify(String(stamp[field])).slice(1, -1)));
  // Each run's text once per hit.
  const filled = template.runs.map(({ holes, glue }) => {
    let out = texts[holes[0] as number] as string;
    for (let i = 0; i < glue.length; i++) out += (glue[i] as string) + (texts[holes[i + 1] as number] as string);
    return out;
  });
  const { literals, at } = template;
  // One run (the usual case): a single join with it as the separator, copied once into a flat
  // string. A += per piece built a rope of ~1,000 pieces that the write then flattened: a 250-chunk
  // SSE replay was filled in ~30 us of a ~136 us hit (CPU profile).
  if (filled.length === 1) return literals.join(filled[0]);
  const pieces = new Array<string>(literals.length + at.length);
  pieces[0] = literals[0] as string;
  for (let i = 0; i < at.length; i++) {
    pieces[2 * i + 1] = filled[at[i] as number] as string;
    pieces[2 * i + 2] = literals[i + 1] as string;
  }
  return pieces.join('');
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

/** How many distinct runs a stored answer's template of a variant fills per hit, undefined without a template (for tests). */
export function templateRuns(stored: StoredResponse, variant: 'ndjson' | 'sse' | 'sse+usage'): number | undefined {
  const way = WAYS.get(stored)?.get(variant);
  return typeof way === 'object' ? way.runs.length : undefined;
}

/** The variants of a stored answer whose hits are filled from a template (for tests). */
export function templatedVariants(stored: StoredResponse): string[] {
  return [...(WAYS.get(stored) ?? new Map<string, Way>())].filter(([, way]) => typeof way === 'object').map(([variant]) => variant);
}
