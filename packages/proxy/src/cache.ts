import type { CacheBackend, CacheStats, ScopeOptions } from '@tinyllm/cache-core';

/**
 * What the proxy itself needs of the cache (a ResponseCache fits): stats for /tinyllm/stats and
 * metrics, clear for /tinyllm/clear, the backend for readiness, flush and close for shutdown. The
 * cache engine that answers the cached routes uses the same cache.
 */
export interface ProxyCache {
  /** The storage backend (its name, stats, counters; `has` is the readiness probe). */
  readonly backend: CacheBackend;
  /** This process's metrics, the backend's size (of options.namespace's entries only, when given) and the store-wide counters. */
  getStats(options?: ScopeOptions): Promise<CacheStats>;
  /** Removes every entry of the cache's store (only options.namespace's, when given); returns how many went. */
  clear(options?: ScopeOptions): Promise<number>;
  /** Waits for writes still in flight. */
  flush(): Promise<void>;
  /** Lets pending writes land, then closes the backend. */
  close(): Promise<void>;
}
