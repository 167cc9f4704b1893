import type { CacheEntry } from './entry.js';
import { CacheDecodeError, UnstorableValueError } from './errors.js';

/** Version of the stored entry format; bump it when the layout changes (old entries become misses). */
export const CODEC_VERSION = 1;

/** Every encoded entry starts with this tag, so a foreign or older value is recognised cheaply. */
export const CODEC_TAG = `tlc${CODEC_VERSION}:`;

/** Matches the tag of an entry of any codec version (what clear() and stats() count as an entry). */
export const ANY_CODEC_TAG = /^tlc\d+:/;

/**
 * The JSON text of a value the cache can store, or undefined when JSON cannot carry it: undefined,
 * a function or a symbol (at the top level), a BigInt at any depth, or a cycle. One rule for every
 * backend: such values are refused, never stored as something else (`null`, `{}`, the function).
 */
export function jsonTextOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * Encodes an entry for backends that store strings (Redis, SQLite, files).
 * Layout: the tag, then a JSON array [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model, value],
 * or, for an entry with a stale window, [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model,
 * staleUntil, value]: an entry without one is written exactly as before the window existed, so older
 * readers still read it, and entries written before decode as having no window;
 * an array parses faster than an object and carries no field names. Pass valueJson when the value's
 * JSON text is already at hand (BackendBase does), so it is not serialised twice. A value JSON cannot
 * carry throws UnstorableValueError.
 */
export function encodeEntry(entry: CacheEntry, valueJson: string | undefined = jsonTextOf(entry.value)): string {
  if (valueJson === undefined) throw new UnstorableValueError(entry.value);
  const fields: unknown[] = [entry.createdAt, entry.expiresAt, entry.accessCount, entry.lastAccess, entry.sizeBytes, entry.model ?? null];
  if (typeof entry.staleUntil === 'number') fields.push(entry.staleUntil);
  const metadata = JSON.stringify(fields);
  return `${CODEC_TAG}${metadata.slice(0, -1)},${valueJson}]`;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Decodes what encodeEntry wrote; anything else (corrupt, truncated, foreign, other version) throws CacheDecodeError. */
export function decodeEntry(raw: string | Uint8Array): CacheEntry {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  if (!text.startsWith(CODEC_TAG)) {
    const tag = /^tlc(\d+):/.exec(text);
    throw new CacheDecodeError(tag ? `codec version ${tag[1]} is not ${CODEC_VERSION}` : 'not a TinyLLM cache entry');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(CODEC_TAG.length));
  } catch (cause) {
    throw new CacheDecodeError('malformed JSON (truncated or corrupt)', { cause });
  }
  if (!Array.isArray(parsed) || (parsed.length !== 7 && parsed.length !== 8)) throw new CacheDecodeError('unexpected layout');
  const withWindow = parsed.length === 8;
  const [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model] = parsed as unknown[];
  const staleUntil: unknown = withWindow ? parsed[6] : null;
  const value: unknown = parsed[withWindow ? 7 : 6];
  if (
    !(staleUntil === null || isFiniteNumber(staleUntil)) ||
    !isFiniteNumber(createdAt) ||
    !(expiresAt === null || isFiniteNumber(expiresAt)) ||
    !isFiniteNumber(accessCount) ||
    !isFiniteNumber(lastAccess) ||
    !isFiniteNumber(sizeBytes) ||
    !(model === null || typeof model === 'string')
  ) {
    throw new CacheDecodeError('metadata fields have the wrong types');
  }
  const entry: CacheEntry = { value, createdAt, expiresAt, accessCount, lastAccess, sizeBytes };
  if (model !== null) entry.model = model;
  if (typeof staleUntil === 'number') entry.staleUntil = staleUntil;
  return entry;
}
