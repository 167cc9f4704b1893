import type { CacheEntry } from './entry.js';
import { CacheDecodeError } from './errors.js';

/** Version of the stored entry format; bump it when the layout changes (old entries become misses). */
export const CODEC_VERSION = 1;

/** Every encoded entry starts with this tag, so a foreign or older value is recognised cheaply. */
export const CODEC_TAG = `tlc${CODEC_VERSION}:`;

/**
 * Encodes an entry for backends that store strings (Redis, SQLite, files).
 * Layout: the tag, then a JSON array [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model, value];
 * an array parses faster than an object and carries no field names.
 */
export function encodeEntry(entry: CacheEntry): string {
  return CODEC_TAG + JSON.stringify([entry.createdAt, entry.expiresAt, entry.accessCount, entry.lastAccess, entry.sizeBytes, entry.model ?? null, entry.value]);
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
  if (!Array.isArray(parsed) || parsed.length !== 7) throw new CacheDecodeError('unexpected layout');
  const [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model, value] = parsed as unknown[];
  if (
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
  return entry;
}
