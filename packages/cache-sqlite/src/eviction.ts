import type { Statements } from './statements.js';

/** The bounds of one namespace. */
export interface Bounds {
  /** Most entries kept. */
  maxEntries: number;
  /** Most bytes of encoded entries kept. */
  maxBytes: number;
}

interface Usage {
  entry_count: number;
  byte_count: number;
}

const fits = (usage: Usage | undefined, bounds: Bounds): boolean =>
  usage === undefined || (usage.entry_count <= bounds.maxEntries && usage.byte_count <= bounds.maxBytes);

/**
 * Runs inside set's write transaction: drops expired rows of the namespace (past their stale window too), then its least recently
 * used ones (never keptKey, the entry just written), until it fits its bounds; counts the evictions
 * in the file. Returns the evicted keys. O(1) when the namespace fits (the `usage` row is kept by
 * triggers).
 */
export function evictOverflow(s: Statements, ns: string, bounds: Bounds, keptKey: string): string[] {
  let usage = s.usage.get(ns) as Usage | undefined;
  if (fits(usage, bounds)) return [];
  if (s.purgeExpired.run({ ns, now: Date.now() }).changes > 0) {
    usage = s.usage.get(ns) as Usage;
    if (fits(usage, bounds)) return [];
  }
  const current = usage as Usage;
  let excessEntries = current.entry_count - bounds.maxEntries;
  let excessBytes = current.byte_count - bounds.maxBytes;
  const victims: string[] = [];
  // Collect first: better-sqlite3 allows no other statement while an iterator is open.
  for (const row of s.lruVictims.iterate(ns, keptKey) as IterableIterator<{ key: string; size_bytes: number }>) {
    victims.push(row.key);
    excessEntries -= 1;
    excessBytes -= row.size_bytes;
    if (excessEntries <= 0 && excessBytes <= 0) break;
  }
  for (const victim of victims) s.deleteKey.run(ns, victim);
  if (victims.length > 0) {
    s.addCounters.run({ ns, hits: 0, misses: 0, sets: 0, errors: 0, evictions: victims.length, saved_duration_ns: 0, saved_tokens: 0, stale: 0 });
  }
  return victims;
}
