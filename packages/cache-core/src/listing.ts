import type { CacheBackend, EntryInfo, ListOptions, MaybePromise, ScopeOptions } from './contract.js';
import type { CacheEntry } from './entry.js';
import { InvalidOptionError } from './errors.js';

/** A backend that lists its entries (capabilities.lists, with list, peek and prune). */
export type ListingBackend = CacheBackend & {
  list(options?: ListOptions): AsyncIterable<EntryInfo>;
  peek(key: string): MaybePromise<CacheEntry | undefined>;
  prune(options?: ScopeOptions): MaybePromise<number>;
};

/** True when backend declares capabilities.lists and has list, peek and prune. */
export function canList(backend: CacheBackend): backend is ListingBackend {
  return backend.capabilities.lists === true && typeof backend.list === 'function' && typeof backend.peek === 'function' && typeof backend.prune === 'function';
}

/** The key namespace of a key: what comes before its last ":" (generateCacheKey's `namespace:hash`), or null. */
export function namespaceOfKey(key: string): string | null {
  const colon = key.lastIndexOf(':');
  return colon > 0 ? key.slice(0, colon) : null;
}

/** The metadata a listing yields for an entry (or an entry's decoded head) stored under key. */
export function entryInfoOf(
  key: string,
  entry: Pick<CacheEntry, 'createdAt' | 'expiresAt' | 'sizeBytes' | 'accessCount' | 'lastAccess'> & { model?: string | null; endpoint?: string | null },
): EntryInfo {
  return {
    key,
    namespace: namespaceOfKey(key),
    endpoint: entry.endpoint ?? null,
    model: entry.model ?? null,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    sizeBytes: entry.sizeBytes,
    accessCount: entry.accessCount,
    lastAccess: entry.lastAccess,
  };
}

/**
 * One entry as `tinyllm cache-show --json` and the proxy's entry route show it: its metadata and its
 * value (the two must agree, so a script reads either the same way).
 */
export function entryViewOf(key: string, entry: CacheEntry): Record<string, unknown> {
  return {
    key,
    model: entry.model ?? null,
    endpoint: entry.endpoint ?? null,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    sizeBytes: entry.sizeBytes,
    accessCount: entry.accessCount,
    lastAccess: entry.lastAccess,
    value: entry.value,
  };
}

/** Default entries per batch of a listing. */
export const DEFAULT_LIST_BATCH = 500;

/** The batch size of list options: an integer >= 1 (InvalidOptionError otherwise), DEFAULT_LIST_BATCH when absent. */
export function listBatchSize(options: ListOptions | undefined): number {
  const size = options?.batchSize;
  if (size === undefined) return DEFAULT_LIST_BATCH;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw new InvalidOptionError('batchSize', size, 'an integer >= 1');
  return size;
}
