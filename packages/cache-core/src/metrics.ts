/** Counters of one ResponseCache, as getMetrics() returns them. */
export interface CacheMetrics {
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that found nothing (including coalesced ones). */
  misses: number;
  /** Entries written. */
  sets: number;
  /** Entries the backend evicted to respect its bounds. */
  evictions: number;
  /** Cache operations that failed or timed out (each fell through to the model). */
  errors: number;
  /** Misses that joined an identical in-flight computation instead of making their own. */
  coalesced: number;
  /** Misses answered by another process's computation: this process waited on its lease, then read its entry (one per in-process flight; its in-process joiners count as coalesced). */
  coalescedRemote: number;
  /** Expired entries served because the upstream failed (stale-if-error); each also counted as a miss, never as a hit. */
  stale: number;
  /** hits / totalRequests, 0 when there were none. */
  hitRate: number;
  /** hits + misses. */
  totalRequests: number;
}

/** The mutable counters behind CacheMetrics. */
export class MetricsRecorder {
  hits = 0;
  misses = 0;
  sets = 0;
  evictions = 0;
  errors = 0;
  coalesced = 0;
  coalescedRemote = 0;
  stale = 0;

  /** A snapshot with the derived fields. */
  snapshot(): CacheMetrics {
    const totalRequests = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      sets: this.sets,
      evictions: this.evictions,
      errors: this.errors,
      coalesced: this.coalesced,
      coalescedRemote: this.coalescedRemote,
      stale: this.stale,
      hitRate: totalRequests === 0 ? 0 : this.hits / totalRequests,
      totalRequests,
    };
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.hits = this.misses = this.sets = this.evictions = this.errors = this.coalesced = this.coalescedRemote = this.stale = 0;
  }
}
