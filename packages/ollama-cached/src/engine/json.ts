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
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out as T;
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
