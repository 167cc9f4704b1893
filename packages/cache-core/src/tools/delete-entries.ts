import type { CacheBackend, ScopeOptions } from '../contract.js';
import { DEFAULT_LIST_BATCH } from '../listing.js';
import type { EntryFilter } from './filter.js';
import { listEntries, requireListing } from './list-entries.js';

/** Removes every entry that matches the filter (all entries for an empty filter); returns how many went. Streams: keys are deleted batch by batch. */
export async function deleteEntries(backend: CacheBackend, filter: EntryFilter = {}): Promise<number> {
  let removed = 0;
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    const results = await Promise.all(batch.map((key) => backend.delete(key)));
    removed += results.filter(Boolean).length;
    batch = [];
  };
  for await (const info of listEntries(backend, filter)) {
    batch.push(info.key);
    if (batch.length >= DEFAULT_LIST_BATCH) await flush();
  }
  await flush();
  return removed;
}

/** Removes expired entries (of options.namespace only, when given); returns how many went. */
export async function pruneEntries(backend: CacheBackend, options?: ScopeOptions): Promise<number> {
  return requireListing(backend).prune(options);
}
