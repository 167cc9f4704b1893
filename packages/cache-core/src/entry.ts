/** One stored response plus the metadata every backend keeps with it. */
export interface CacheEntry<T = unknown> {
  /** The stored response (any JSON-serialisable value). */
  value: T;
  /** When the entry was written, in ms since the epoch. */
  createdAt: number;
  /** When the entry stops being served, in ms since the epoch; null = never. */
  expiresAt: number | null;
  /** How many times the entry was read (backends that cannot count cheaply leave it at 0). */
  accessCount: number;
  /** Last read (or the write), in ms since the epoch. */
  lastAccess: number;
  /** Size of the serialised value in bytes (UTF-8 JSON). */
  sizeBytes: number;
  /** The model that produced the response, when known. */
  model?: string;
  /** The endpoint that produced the response (generate, chat, embed...), when known. */
  endpoint?: string;
  /**
   * Until when the entry is kept past expiresAt, in ms since the epoch, to be served only when the
   * upstream fails (stale-if-error); never served as fresh after expiresAt. null or absent: the
   * entry is not kept past its expiry (entries written before this field existed have none).
   */
  staleUntil?: number | null;
}

/** True when the entry's expiry is at or before `now` (ms since the epoch). */
export function isExpired(entry: Pick<CacheEntry, 'expiresAt'>, now: number = Date.now()): boolean {
  return entry.expiresAt !== null && entry.expiresAt <= now;
}

/** Milliseconds the entry has left, or null when it never expires (may be <= 0 when elapsed). */
export function remainingTtlMs(entry: Pick<CacheEntry, 'expiresAt'>, now: number = Date.now()): number | null {
  return entry.expiresAt === null ? null : entry.expiresAt - now;
}

/**
 * When the store may drop the entry, in ms since the epoch: the later of expiresAt and staleUntil;
 * null when it never expires.
 */
export function retainedUntil(entry: Pick<CacheEntry, 'expiresAt' | 'staleUntil'>): number | null {
  if (entry.expiresAt === null) return null;
  const staleUntil = entry.staleUntil;
  return typeof staleUntil === 'number' && staleUntil > entry.expiresAt ? staleUntil : entry.expiresAt;
}

/** True when the entry is past both its expiry and its stale window (the store may drop it). */
export function isRetired(entry: Pick<CacheEntry, 'expiresAt' | 'staleUntil'>, now: number = Date.now()): boolean {
  const until = retainedUntil(entry);
  return until !== null && until <= now;
}

/** True when the entry has expired but is still within its stale window (servable only when the upstream fails). */
export function isStale(entry: Pick<CacheEntry, 'expiresAt' | 'staleUntil'>, now: number = Date.now()): boolean {
  return isExpired(entry, now) && !isRetired(entry, now);
}
