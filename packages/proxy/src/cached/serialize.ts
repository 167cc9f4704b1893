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
  readonly last: Array<{ value: unknown; text: string; bytes: number } | undefined>;
}

/** A whole answer's JSON text and its length in UTF-8 bytes (the Content-Length). */
export interface AnswerBody {
  /** The JSON text. */
  readonly text: string;
  /** Its UTF-8 byte length. */
  readonly bytes: number;
}

const TEMPLATES = new WeakMap<JsonObject, Template | null>();
// A marker no answer contains: JSON.stringify writes it as "\u0000tinyllm-hole\u0000" (escaped).
const HOLE = '\u0000tinyllm-hole\u0000';
const QUOTED_HOLE = JSON.stringify(HOLE);

// `values` are this caller's answer fields: their names are the holes (read only when the template is made).
function templateOf(response: JsonObject, values: JsonObject): Template | null {
  let template = TEMPLATES.get(response);
  if (template !== undefined) return template;
  const present = Object.keys(values).filter((field) => field in response);
  const holed: JsonObject = { ...response };
  for (const field of present) holed[field] = HOLE;
  // Escaped as Go writes JSON (likeGo), once here: a hit then only escapes the few fields it fills in.
  const parts = likeGo(JSON.stringify(holed)).split(QUOTED_HOLE);
  // An answer that contains the marker itself cannot be templated (never in practice): serialise it whole.
  const partBytes = parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
  template = parts.length === present.length + 1 ? { parts, fields: present, partBytes, last: present.map(() => undefined) } : null;
  TEMPLATES.set(response, template);
  return template;
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
  let text = template.parts[0] as string;
  let bytes = template.partBytes;
  for (let i = 0; i < template.fields.length; i++) {
    const field = template.fields[i] as string;
    const value = values[field] === undefined ? response[field] : values[field];
    let filled = template.last[i];
    if (filled === undefined || filled.value !== value) {
      const json = likeGo(JSON.stringify(value));
      filled = { value, text: json, bytes: Buffer.byteLength(json) };
      template.last[i] = filled;
    }
    bytes += filled.bytes;
    text += filled.text + (template.parts[i + 1] as string);
  }
  return { text, bytes };
}
