import type { CacheStats, SharedCounters } from '@tinyllm/cache-core';
import type { EngineCounters } from './engine/engine.js';

/** Cache counters of this process plus the store's size. */
export interface CachedClientCacheStats {
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that found nothing (coalesced ones included). */
  misses: number;
  /** hits / totalRequests (0 when there were none). */
  hitRate: number;
  /** Entries written. */
  sets: number;
  /** Failed or timed-out cache operations (each fell through to the model). */
  errors: number;
  /** Misses that shared an identical in-flight upstream call. */
  coalesced: number;
  /** Misses answered by another process's call (cross-process single flight: this process waited on its lease, then read its entry). */
  coalescedRemote: number;
  /** Entries the backend evicted. */
  evictions: number;
  /** Expired answers served because Ollama failed (stale-if-error); never counted as hits. */
  stale: number;
  /** hits + misses. */
  totalRequests: number;
  /** Entries in the store, when the backend answered (not those kept past their TTL only for stale-if-error). */
  entries?: number;
  /** Entries past their TTL kept for stale-if-error, where the backend tells them apart. */
  staleEntries?: number;
  /** Bytes in the store, where the backend knows. */
  bytes?: number;
}

/** What the client itself counted (the engine's counters). */
export type CachedClientCounters = EngineCounters;

/** What hits saved upstream in this process. */
export interface SavedStats {
  /** Ollama time avoided, in ns (sum of the hits' total_duration). */
  durationNs: number;
  /** Tokens avoided (sum of the hits' eval_count + prompt_eval_count). */
  tokens: number;
}

/** The answer of CachedOllamaClient.getStats(). */
export interface CachedClientStats {
  /** Cache counters and store size. */
  cache: CachedClientCacheStats;
  /** Client counters. */
  client: CachedClientCounters;
  /** What hits saved. */
  saved: SavedStats;
  /** Counters kept in a shared store (Redis, SQLite) by every process, when the backend keeps them. */
  shared?: SharedCounters;
}

/** Builds getStats()'s answer from the cache's stats (undefined when the cache is off or failed to load). */
export function buildStats(cacheStats: CacheStats | undefined, counters: CachedClientCounters): CachedClientStats {
  const m = cacheStats?.metrics;
  const cache: CachedClientCacheStats = {
    hits: m?.hits ?? 0,
    misses: m?.misses ?? 0,
    hitRate: m?.hitRate ?? 0,
    sets: m?.sets ?? 0,
    errors: m?.errors ?? 0,
    coalesced: m?.coalesced ?? 0,
    coalescedRemote: m?.coalescedRemote ?? 0,
    evictions: m?.evictions ?? 0,
    stale: m?.stale ?? 0,
    totalRequests: m?.totalRequests ?? 0,
  };
  const backend = cacheStats?.backend;
  if (backend) {
    cache.entries = backend.entries;
    if (backend.stale !== undefined) cache.staleEntries = backend.stale;
    if (backend.bytes !== undefined) cache.bytes = backend.bytes;
    if (backend.evictions !== undefined && backend.evictions > cache.evictions) cache.evictions = backend.evictions;
  }
  const stats: CachedClientStats = {
    cache,
    client: { ...counters },
    saved: { durationNs: m?.savedDurationNs ?? 0, tokens: m?.savedTokens ?? 0 },
  };
  if (cacheStats?.shared) stats.shared = cacheStats.shared;
  return stats;
}
