/** A JSON object as Ollama sends it. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

// What Go's encoding/json escapes in strings by default (HTML-safe output), and how.
const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const HAS_GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
const goEscape = (char: string): string => GO_ESCAPES[char] as string;

/**
 * JSON text as Ollama writes it: Go's json.Marshal and json.Encoder escape <, > and & (and U+2028,
 * U+2029) inside strings as \u003c, \u003e, \u0026; JSON.stringify does not. Takes JSON.stringify's
 * output; the result parses to the same value. Those characters can only occur inside strings.
 */
export function likeGo(json: string): string {
  return HAS_GO_ESCAPED.test(json) ? json.replace(GO_ESCAPED, goEscape) : json;
}

/** The value when it is a string, else ''. */
export const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * A deep copy of a JSON value. Hand-written because it runs on every hit: about 5x faster than
 * structuredClone on Ollama-sized responses (strings are immutable and shared, never copied).
 */
export function copyJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  return (Array.isArray(value) ? copyArray(value) : copyObject(value as Record<string, unknown>)) as T;
}

// A spread copies the elements at once (about 15x faster than a loop of stores on a 64-number
// context, and it stays fast on the frozen arrays the memory store keeps, where slice() does not);
// then only object elements are replaced by copies. Ollama answers are mostly strings and number
// arrays (context, embeddings).
function copyArray(source: readonly unknown[]): unknown[] {
  const out = [...source];
  const length = out.length;
  for (let i = 0; i < length; i++) {
    const item = out[i];
    if (typeof item === 'object' && item !== null) out[i] = Array.isArray(item) ? copyArray(item) : copyObject(item as Record<string, unknown>);
  }
  return out;
}

function copyObject(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = source[key];
    const copy = typeof item === 'object' && item !== null ? (Array.isArray(item) ? copyArray(item) : copyObject(item as Record<string, unknown>)) : item;
    if (key === '__proto__') defineOwn(out, copy);
    else out[key] = copy;
  }
  return out;
}

// JSON.parse makes "__proto__" an own property; assigning it would set the copy's prototype instead
// (the field would vanish from the answer, and the object would inherit what a model wrote).
function defineOwn(out: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(out, '__proto__', { value, enumerable: true, writable: true, configurable: true });
}

/** A shallow copy of object without the given keys (own keys only; a "__proto__" field is copied as a field). */
export function omit(object: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(object)) {
    if (keys.includes(key)) continue;
    if (key === '__proto__') defineOwn(out, object[key]);
    else out[key] = object[key];
  }
  return out;
}

/** The current time as Ollama writes created_at (RFC 3339, UTC). */
export function nowIso(): string {
  return new Date().toISOString();
}
