import type { BackendStats, SharedCounters } from '@tinyllm/cache-core';

/** What `tinyllm cache-stats --json` and the proxy's GET /tinyllm/stats report: one cache's size and counters. */
export interface CacheStatsReport {
  /** sqlite, memory, redis (the backend's name). */
  backend: string;
  /** The SQLite file, Redis host:port, or "this process". */
  location: string;
  /** False when the store does not exist yet (a SQLite file never created). */
  exists: boolean;
  /** Unexpired entries. */
  entries: number;
  /** Entries past their TTL kept for stale-if-error (0 where the store does not tell). */
  staleEntries: number;
  /** Bytes of the stored entries (null when the store does not know). */
  bytes: number | null;
  /** Lookups answered from the cache (every process's, for stores that keep counters). */
  hits: number;
  /** Lookups that had to ask the model. */
  misses: number;
  /** hits / (hits + misses), 0 when there were none. */
  hitRate: number;
  /** Answers stored. */
  sets: number;
  /** Entries dropped to respect the store's bounds. */
  evictions: number;
  /** Cache operations that failed (each fell through to the model). */
  errors: number;
  /** Expired answers served because the model failed (stale-if-error); counted with the misses, never as hits. */
  stale: number;
  /** Creation time of the oldest entry (ISO 8601), null when empty or unknown. */
  oldestCreatedAt: string | null;
  /** Creation time of the newest entry (ISO 8601), null when empty or unknown. */
  newestCreatedAt: string | null;
  /** Model time that hits saved, in ms. */
  savedMs: number;
  /** Tokens that hits saved. */
  savedTokens: number;
  /** The same figures by model, most hits first (calls that named a model). */
  byModel: ModelStatsRow[];
}

/** One model's line of a report. */
export interface ModelStatsRow {
  /** The model (normalised: `llama3` is `llama3:latest`). */
  model: string;
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that had to ask the model. */
  misses: number;
  /** hits / (hits + misses), 0 when there were none. */
  hitRate: number;
  /** Model time that hits saved, in ms. */
  savedMs: number;
  /** Tokens that hits saved. */
  savedTokens: number;
}

/** The per-model rows of counters, most hits first (then by name). */
export function modelRowsOf(byModel: SharedCounters['byModel']): ModelStatsRow[] {
  return Object.entries(byModel ?? {})
    .map(([model, c]) => ({
      model,
      hits: c.hits,
      misses: c.misses,
      hitRate: c.hits + c.misses === 0 ? 0 : c.hits / (c.hits + c.misses),
      savedMs: Math.round(c.savedDurationNs / 1e6),
      savedTokens: c.savedTokens,
    }))
    .sort((a, b) => b.hits - a.hits || a.model.localeCompare(b.model));
}

/** Where a report's figures come from. */
export interface CacheStatsSource {
  /** The backend's name (sqlite, memory, redis...). */
  backend: string;
  /** The SQLite file, Redis host:port, or "this process". */
  location: string;
  /** False when the store does not exist yet. */
  exists: boolean;
  /** The backend's own size figures, when it answered. */
  stats: BackendStats | undefined;
  /** The counters: kept in the store (shared backends: every process's), else this process's. */
  counters: SharedCounters | undefined;
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/** Builds the report from a backend's stats and the counters (the shape of `tinyllm cache-stats --json`). */
export function buildCacheStatsReport(source: CacheStatsSource): CacheStatsReport {
  const { stats, counters, exists } = source;
  const hits = counters?.hits ?? 0;
  const misses = counters?.misses ?? 0;
  return {
    backend: source.backend,
    location: source.location,
    exists,
    entries: stats?.entries ?? 0,
    staleEntries: stats?.stale ?? 0,
    bytes: stats?.bytes ?? (exists ? null : 0),
    hits,
    misses,
    hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
    sets: counters?.sets ?? 0,
    evictions: stats?.evictions ?? counters?.evictions ?? 0,
    errors: counters?.errors ?? 0,
    stale: counters?.stale ?? 0,
    oldestCreatedAt: iso(stats?.oldestCreatedAt),
    newestCreatedAt: iso(stats?.newestCreatedAt),
    savedMs: Math.round((counters?.savedDurationNs ?? 0) / 1e6),
    savedTokens: counters?.savedTokens ?? 0,
    byModel: modelRowsOf(counters?.byModel),
  };
}
