import type { CacheEntry } from './entry.js';
import { InvalidOptionError } from './errors.js';

/** Throws InvalidOptionError unless ttl is null/undefined or a finite number >= 0 (seconds). */
export function assertTtl(ttl: unknown, option: string): asserts ttl is number | null | undefined {
  if (ttl === undefined || ttl === null) return;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new InvalidOptionError(option, ttl, 'a finite number of seconds >= 0, or null for no expiry');
  }
}

/** Byte length of a value as UTF-8 JSON: what a serialising backend stores. */
export function measureValueBytes(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), 'utf8');
}

/** Options of createEntry. */
export interface CreateEntryOptions {
  /** Seconds until expiry; null or undefined = never; 0 = already expired (a backend stores nothing). */
  ttl?: number | null;
  /** The model that produced the value. */
  model?: string;
  /** The clock, in ms since the epoch (default Date.now()). */
  now?: number;
  /** The value's size in bytes, when the caller already knows it. */
  sizeBytes?: number;
}

/** Builds a CacheEntry for value, with its expiry derived from a TTL in seconds. */
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
  return entry;
}
