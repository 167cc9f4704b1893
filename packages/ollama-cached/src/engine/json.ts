/** A JSON object as Ollama sends it. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

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

// Primitives are copied in place, without a call per element: Ollama answers are mostly strings
// and number arrays (context, embeddings).
function copyArray(source: readonly unknown[]): unknown[] {
  const length = source.length;
  const out = new Array(length);
  for (let i = 0; i < length; i++) {
    const item = source[i];
    out[i] = typeof item === 'object' && item !== null ? (Array.isArray(item) ? copyArray(item) : copyObject(item as Record<string, unknown>)) : item;
  }
  return out;
}

function copyObject(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = source[key];
    out[key] = typeof item === 'object' && item !== null ? (Array.isArray(item) ? copyArray(item) : copyObject(item as Record<string, unknown>)) : item;
  }
  return out;
}

/** A shallow copy of object without the given keys. */
export function omit(object: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key in object) if (!keys.includes(key)) out[key] = object[key];
  return out;
}

/** The current time as Ollama writes created_at (RFC 3339, UTC). */
export function nowIso(): string {
  return new Date().toISOString();
}
