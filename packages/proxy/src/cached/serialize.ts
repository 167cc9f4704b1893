/**
 * A whole answer's bytes, as Ollama writes them, without serialising the stored answer on every hit:
 * the answer is turned into a template once (its JSON with the per-caller fields, such as
 * `created_at` or an OpenAI `id`, left as holes) and each hit fills the holes. Templates live as long
 * as the stored answer object (a memory store hands back the same object on every hit).
 */
import { type AnswerStamp, type EndpointProfile, type JsonObject, likeGo } from '@tinyllm/ollama-cached/engine';

interface Template {
  /** The JSON text between the holes: parts.length === fields.length + 1. */
  readonly parts: readonly string[];
  /** The fields whose values fill the holes, in order. */
  readonly fields: readonly string[];
  /** UTF-8 bytes of the parts together (a hit then measures only the few bytes it fills in). */
  readonly partBytes: number;
  /** Each hole's last value and its JSON text and bytes: the model never changes and created_at once a millisecond, so most hits write what the last one did. */
  readonly last: Array<Filled | undefined>;
  /** The body the last hit got: the next one gets it again while no hole's value changes. */
  lastBody: AnswerBody | undefined;
  /** The text after the last hole, with its suffix, as bytes (splitBody). */
  rest?: Buffer;
  /** UTF-8 bytes of the parts before the last hole (splitBody's head, but for the values). */
  readonly headPartBytes: number;
}

/** A value filled into a hole: its JSON text, as Go writes it, and that text's UTF-8 bytes. */
interface Filled {
  readonly value: unknown;
  readonly text: string;
  readonly bytes: number;
}

/** A whole answer's JSON text and its length in UTF-8 bytes (the Content-Length). */
export interface AnswerBody {
  /** The JSON text. */
  readonly text: string;
  /** Its UTF-8 byte length. */
  readonly bytes: number;
  /** Its bytes, once a caller encoded them: kept with the body, for the hits that get it again. */
  encoded?: Buffer;
}

/**
 * Most bytes of encoded bodies kept at once. Each answer keeps only its latest body's bytes (a hot
 * answer's body is made again every millisecond: created_at), so the budget bounds what the answers
 * hit once or twice leave behind: the oldest encoded bodies let their bytes go first (their text,
 * and their template, stay).
 */
export const ENCODED_BODIES_BUDGET_BYTES = 4 * 1024 * 1024;

// Bodies holding their bytes, oldest first (a Set keeps insertion order), and those bytes in all.
const encodedBodies = new Set<AnswerBody>();
let encodedBytes = 0;

/**
 * How to write `text` of `bytes` UTF-8 bytes: as many bytes as characters means every one is ASCII
 * (any other takes two bytes or more), so its Latin-1 bytes are its UTF-8 ones, and a socket or a
 * Buffer copies them rather than encoding each character.
 */
export function encodingOf(text: string, bytes: number): 'latin1' | 'utf8' {
  return bytes === text.length ? 'latin1' : 'utf8';
}

/** The bytes of a body (ASCII text copied as Latin-1, the same bytes; UTF-8 otherwise), made once per body while the budget keeps them. */
export function encodedBody(body: AnswerBody): Buffer {
  if (body.encoded !== undefined) return body.encoded;
  const encoded = Buffer.from(body.text, encodingOf(body.text, body.bytes));
  body.encoded = encoded;
  encodedBodies.add(body);
  encodedBytes += encoded.length;
  for (const oldest of encodedBodies) {
    if (encodedBytes <= ENCODED_BODIES_BUDGET_BYTES || oldest === body) break;
    forgetEncoded(oldest);
  }
  return encoded;
}

function forgetEncoded(body: AnswerBody): void {
  encodedBodies.delete(body);
  encodedBytes -= (body.encoded as Buffer).length;
  body.encoded = undefined;
}

/** How many bodies hold their bytes, and how many bytes (for tests). */
export function encodedBodiesHeld(): { bodies: number; bytes: number } {
  return { bodies: encodedBodies.size, bytes: encodedBytes };
}

const TEMPLATES = new WeakMap<JsonObject, Template | null>();
// A marker no answer contains: JSON.stringify writes it as "\u0000tinyllm-hole\u0000" (escaped).
const HOLE = '\u0000tinyllm-hole\u0000';
const QUOTED_HOLE = JSON.stringify(HOLE);

// `values` are this caller's answer fields: their names are the holes (read only when the template is made).
function templateOf(response: JsonObject, values: JsonObject): Template | null {
  let template = TEMPLATES.get(response);
  if (template !== undefined) return template;
  // In the answer's own key order: the holes are filled in the order JSON.stringify writes them.
  const present = Object.keys(response).filter((field) => field in values);
  const holed: JsonObject = { ...response };
  for (const field of present) holed[field] = HOLE;
  // Escaped as Go writes JSON (likeGo), once here: a hit then only escapes the few fields it fills in.
  const parts = likeGo(JSON.stringify(holed)).split(QUOTED_HOLE);
  // An answer that contains the marker itself cannot be templated (never in practice): serialise it whole.
  const headPartBytes = parts.slice(0, -1).reduce((sum, part) => sum + Buffer.byteLength(part), 0);
  const partBytes = headPartBytes + Buffer.byteLength(parts.at(-1) as string);
  template =
    parts.length === present.length + 1 ? { parts, fields: present, partBytes, headPartBytes, last: present.map(() => undefined), lastBody: undefined } : null;
  TEMPLATES.set(response, template);
  return template;
}

/** A whole answer in two pieces: the text up to the last filled-in field, and the rest's bytes (made once per answer). */
export interface SplitBody {
  /** The text up to and with the last hole's value. */
  readonly head: string;
  /** Its UTF-8 byte length. */
  readonly headBytes: number;
  /** The rest of the answer, then the suffix, as bytes. */
  readonly rest: Buffer;
}

/**
 * A whole answer for one caller as a short head (its per-caller fields: a /v1 answer's id, created
 * and model come first) and the rest's bytes, made once per answer: for answers whose values change
 * with nearly every hit, so their body cannot be reused whole. Undefined when it cannot be templated,
 * or when the rest is the smaller piece (the caller then writes the text whole, as before).
 */
export function splitBody(profile: EndpointProfile, response: JsonObject, stamp: AnswerStamp, suffix: string): SplitBody | undefined {
  const values = profile.answerFields(stamp);
  const template = templateOf(response, values);
  if (template === null) return undefined;
  fillHoles(template, response, values);
  const fields = template.fields;
  let head = template.parts[0] as string;
  let headBytes = template.headPartBytes;
  for (let i = 0; i < fields.length; i++) {
    const filled = template.last[i] as Filled;
    headBytes += filled.bytes;
    head += filled.text;
    if (i < fields.length - 1) head += template.parts[i + 1] as string;
  }
  template.rest ??= Buffer.from(`${template.parts[fields.length] as string}${suffix}`, 'utf8');
  // Worth it only when the fields come first (an embedding's model comes after its vectors).
  if (template.rest.length < headBytes) return undefined;
  return { head, headBytes, rest: template.rest };
}

/**
 * Remembers each hole's JSON for this caller's values. A value that differs from the last caller's
 * retires the body that caller got (and lets its bytes go at once: a hot answer's old bodies die
 * young), whichever of answerBody and splitBody notices it first.
 */
function fillHoles(template: Template, response: JsonObject, values: JsonObject): void {
  for (let i = 0; i < template.fields.length; i++) {
    const field = template.fields[i] as string;
    const value = values[field] === undefined ? response[field] : values[field];
    const filled = template.last[i];
    if (filled !== undefined && filled.value === value) continue;
    const json = likeGo(JSON.stringify(value));
    template.last[i] = { value, text: json, bytes: Buffer.byteLength(json) };
    const retired = template.lastBody;
    if (retired !== undefined) {
      if (retired.encoded !== undefined) forgetEncoded(retired);
      template.lastBody = undefined;
    }
  }
}

/** The bytes of a whole answer for one caller: its template (made on the first hit) with this caller's stamp filled in. */
export function answerBody(profile: EndpointProfile, response: JsonObject, stamp: AnswerStamp): AnswerBody {
  const values = profile.answerFields(stamp);
  const template = templateOf(response, values);
  if (template === null) {
    const copy: JsonObject = { ...response };
    for (const name of Object.keys(values)) if (name in copy && values[name] !== undefined) copy[name] = values[name];
    const text = likeGo(JSON.stringify(copy));
    return { text, bytes: Buffer.byteLength(text) };
  }
  fillHoles(template, response, values);
  if (template.lastBody !== undefined) return template.lastBody;
  let text = template.parts[0] as string;
  let bytes = template.partBytes;
  for (let i = 0; i < template.fields.length; i++) {
    const filled = template.last[i] as Filled;
    bytes += filled.bytes;
    text += filled.text + (template.parts[i + 1] as string);
  }
  template.lastBody = { text, bytes };
  return template.lastBody;
}
