import { jsonTextOf } from './codec.js';
import type { CacheEntry } from './entry.js';
import { InvalidOptionError } from './errors.js';

/**
 * The longest TTL any entry may have, in seconds: 10 years of 365 days. One bound for every
 * backend (Redis refuses PX values past 2^63 ms, SQLite and memory would keep anything), checked
 * in the core so that a TTL one backend accepts is accepted by all.
 */
export const MAX_TTL_SECONDS = 315_360_000;

/**
 * Throws InvalidOptionError unless ttl is undefined, null (no expiry) or a number of seconds
 * greater than 0 and at most MAX_TTL_SECONDS. A TTL of 0 is refused: it would mean "store nothing"
 * to one reader and "keep forever" to another.
 */
export function assertTtl(ttl: unknown, option: string): asserts ttl is number | null | undefined {
  if (ttl === undefined || ttl === null) return;
  if (ttl === 0) {
    throw new InvalidOptionError(option, ttl, 'a TTL in seconds > 0; 0 is ambiguous: use noStore: true to store nothing, or null for no expiry');
  }
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new InvalidOptionError(option, ttl, `a number of seconds > 0 and <= ${MAX_TTL_SECONDS} (10 years), or null for no expiry`);
  }
  if (ttl > MAX_TTL_SECONDS) {
    throw new InvalidOptionError(option, ttl, `at most ${MAX_TTL_SECONDS} seconds (10 years), the longest TTL every backend keeps; null for no expiry`);
  }
}

/** Byte length of a value as UTF-8 JSON: what a serialising backend stores (0 for a value JSON cannot carry). */
export function measureValueBytes(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : (jsonTextOf(value) ?? ''), 'utf8');
}

/** Options of createEntry. */
export interface CreateEntryOptions {
  /** Seconds until expiry, > 0 and <= MAX_TTL_SECONDS; null or undefined = never. @default undefined */
  ttl?: number | null;
  /** The model that produced the value. @default undefined */
  model?: string;
  /** The endpoint that produced the value (generate, chat, embed...). @default undefined */
  endpoint?: string;
  /** The clock, in ms since the epoch. @default Date.now() */
  now?: number;
  /** The value's size in bytes, when the caller already knows it. @default the UTF-8 length of its JSON */
  sizeBytes?: number;
  /** Seconds the entry is kept past its expiry for stale-if-error (0 = not kept; ignored for an entry that never expires). @default 0 */
  staleIfErrorTtl?: number;
}

/** Throws InvalidOptionError unless value is undefined, 0 (off) or a number of seconds > 0 and at most MAX_TTL_SECONDS. */
export function assertStaleTtl(value: unknown, option: string): asserts value is number | undefined {
  if (value === undefined || value === 0) return;
  if (value === null) throw new InvalidOptionError(option, value, 'a number of seconds (0 = off); an endless stale window is not supported');
  assertTtl(value, option);
}

/** Builds a CacheEntry for value, with its expiry derived from a TTL in seconds (see assertTtl for the rules). */
export function createEntry<T>(value: T, options: CreateEntryOptions = {}): CacheEntry<T> {
  assertTtl(options.ttl, 'ttl');
  const now = options.now ?? Date.now();
  const entry: CacheEntry<T> = {
    value,
    createdAt: now,
    expiresAt: options.ttl === undefined || options.ttl === null ? null : now + options.ttl * 1000,
    accessCount: 0,
    lastAccess: now,
    sizeBytes: options.sizeBytes ?? measureValueBytes(value),
  };
  if (options.model !== undefined) entry.model = options.model;
  if (options.endpoint !== undefined) entry.endpoint = options.endpoint;
  const staleTtl = options.staleIfErrorTtl;
  if (staleTtl !== undefined && staleTtl !== 0 && entry.expiresAt !== null) {
    assertStaleTtl(staleTtl, 'staleIfErrorTtl');
    entry.staleUntil = Math.min(entry.expiresAt + staleTtl * 1000, now + MAX_TTL_SECONDS * 1000);
  }
  return entry;
}
