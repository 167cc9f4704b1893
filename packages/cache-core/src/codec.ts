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
 * where the model slot is the model (or null), or [model, endpoint] when the entry records its endpoint
 * (a slot of the same version, so entries written before endpoints were recorded still decode);
 * or, for an entry with a stale window, [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, model,
 * staleUntil, value]: an entry without one is written exactly as before the window existed, so older
 * readers still read it, and entries written before decode as having no window;
 * an array parses faster than an object and carries no field names. Pass valueJson when the value's
 * JSON text is already at hand (BackendBase does), so it is not serialised twice. A value JSON cannot
 * carry throws UnstorableValueError.
 */
export function encodeEntry(entry: CacheEntry, valueJson: string | undefined = jsonTextOf(entry.value)): string {
  if (valueJson === undefined) throw new UnstorableValueError(entry.value);
  const modelSlot = entry.endpoint === undefined ? (entry.model ?? null) : [entry.model ?? null, entry.endpoint];
  const fields: unknown[] = [entry.createdAt, entry.expiresAt, entry.accessCount, entry.lastAccess, entry.sizeBytes, modelSlot];
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
  const [createdAt, expiresAt, accessCount, lastAccess, sizeBytes, slot] = parsed as unknown[];
  const labels = modelSlotOf(slot);
  const staleUntil: unknown = withWindow ? parsed[6] : null;
  const value: unknown = parsed[withWindow ? 7 : 6];
  if (
    !(staleUntil === null || isFiniteNumber(staleUntil)) ||
    !isFiniteNumber(createdAt) ||
    !(expiresAt === null || isFiniteNumber(expiresAt)) ||
    !isFiniteNumber(accessCount) ||
    !isFiniteNumber(lastAccess) ||
    !isFiniteNumber(sizeBytes) ||
    labels === undefined
  ) {
    throw new CacheDecodeError('metadata fields have the wrong types');
  }
  const entry: CacheEntry = { value, createdAt, expiresAt, accessCount, lastAccess, sizeBytes };
  if (labels.model !== null) entry.model = labels.model;
  if (labels.endpoint !== null) entry.endpoint = labels.endpoint;
  if (typeof staleUntil === 'number') entry.staleUntil = staleUntil;
  return entry;
}

const isLabel = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** The model and endpoint of a model slot (a model, null, or [model, endpoint]); undefined when it is neither. */
function modelSlotOf(slot: unknown): { model: string | null; endpoint: string | null } | undefined {
  if (isLabel(slot)) return { model: slot, endpoint: null };
  if (Array.isArray(slot) && slot.length === 2 && isLabel(slot[0]) && isLabel(slot[1])) return { model: slot[0], endpoint: slot[1] };
  return undefined;
}

/** The metadata of an encoded entry, read from its start alone (no payload): what listings need. */
export interface EntryHead {
  createdAt: number;
  expiresAt: number | null;
  accessCount: number;
  lastAccess: number;
  sizeBytes: number;
  model: string | null;
  endpoint: string | null;
}

const NUM = '-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
const STR = '"(?:[^"\\\\]|\\\\.)*"';
const LABEL = `(?:null|${STR})`;
const HEAD = new RegExp(`^${CODEC_TAG}\\[(${NUM}),(null|${NUM}),(${NUM}),(${NUM}),(${NUM}),(${LABEL}|\\[${LABEL},${LABEL}\\]),`);

/**
 * Reads the metadata from the first bytes of an encoded entry (e.g. a Redis GETRANGE), without the
 * value; undefined when the head is not a current entry or was cut before the value starts (then
 * decode the whole entry).
 */
export function decodeEntryHead(head: string): EntryHead | undefined {
  const match = HEAD.exec(head);
  if (match === null) return undefined;
  let labels: { model: string | null; endpoint: string | null } | undefined;
  try {
    labels = modelSlotOf(JSON.parse(match[6] as string));
  } catch {
    return undefined;
  }
  if (labels === undefined) return undefined;
  return {
    createdAt: Number(match[1]),
    expiresAt: match[2] === 'null' ? null : Number(match[2]),
    accessCount: Number(match[3]),
    lastAccess: Number(match[4]),
    sizeBytes: Number(match[5]),
    ...labels,
  };
}
