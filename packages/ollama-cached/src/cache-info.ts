/** How one response was answered. */
export type CacheInfoStatus = 'hit' | 'miss' | 'coalesced' | 'refresh' | 'bypass' | 'stale';

/** What cacheInfo() tells about a response or a stream. */
export interface CacheInfo {
  /**
   * hit: from the cache; miss: from the model, stored; coalesced: shared an identical in-flight call;
   * refresh: forced; bypass: cache not used; stale: the model failed (unreachable, 5xx, timeout) and an
   * expired answer within its stale-if-error window was served instead.
   */
  status: CacheInfoStatus;
  /** The cache key ('' when the cache was bypassed). */
  key: string;
  /** hit only: another process computed the answer while this call waited on its lease (cross-process single flight); counted as coalescedRemote, not as a hit. */
  remote?: boolean;
  /** Age of the entry in ms (hits and stale answers). */
  ageMs?: number;
  /** Ollama time the hit saved, in ns (the stored total_duration; hits only). */
  savedDurationNs?: number;
  /**
   * miss, refresh and coalesced: resolves true once the answer landed in the store, false when it was
   * not stored (noStore, an incomplete answer, a failed or refused write, the cache closed). The
   * cache fails open, so this is where a failed write shows. Never rejects.
   */
  stored?: Promise<boolean>;
}

// Kept beside the objects rather than on them, so a response keeps its shape (JSON, deep equality
// and V8's hidden class unchanged); one registry per process, shared by every copy of the package.
const REGISTRY = Symbol.for('tinyllm.ollama-cached.cacheInfo');
const shared = globalThis as { [REGISTRY]?: WeakMap<object, CacheInfo> };
shared[REGISTRY] ??= new WeakMap();
const registry: WeakMap<object, CacheInfo> = shared[REGISTRY];

/** Records how a response or stream was answered (read back with cacheInfo); returns the target. */
export function attachCacheInfo<T extends object>(target: T, info: CacheInfo): T {
  registry.set(target, info);
  return target;
}

/** How a response (or stream) from CachedOllamaClient was answered; undefined for any other object. */
export function cacheInfo(responseOrIterator: unknown): CacheInfo | undefined {
  if (typeof responseOrIterator !== 'object' || responseOrIterator === null) return undefined;
  return registry.get(responseOrIterator);
}
