import type { CacheBackend, EntryInfo } from '../contract.js';
import { InvalidOptionError } from '../errors.js';
import { canList, type ListingBackend } from '../listing.js';
import { ListingUnsupportedError } from './errors.js';
import { compileFilter, type EntryFilter } from './filter.js';

/** What listEntries can sort by. */
export type EntrySortField = 'created' | 'expires' | 'size' | 'hits' | 'lastAccess' | 'key' | 'model';

/** The sort fields, in the order help texts list them. */
export const ENTRY_SORT_FIELDS: readonly EntrySortField[] = ['created', 'expires', 'size', 'hits', 'lastAccess', 'key', 'model'];

/** Options of listEntries: a filter, an order and a bound. */
export interface ListEntriesOptions extends EntryFilter {
  /** Order of the entries; sorting holds the metadata (never the values) of at most `limit` entries, or of every match without a limit. @default the store's order */
  sort?: EntrySortField;
  /** Largest first (newest, biggest, most hits...). @default false */
  descending?: boolean;
  /** At most this many entries. @default every match */
  limit?: number;
  /** Entries read from the store per round trip. @default 500 */
  batchSize?: number;
}

/** The backend as a ListingBackend, or ListingUnsupportedError. */
export function requireListing(backend: CacheBackend): ListingBackend {
  if (!canList(backend)) throw new ListingUnsupportedError(backend.name);
  return backend;
}

const SORT_VALUE: Record<EntrySortField, (info: EntryInfo) => number | string> = {
  created: (info) => info.createdAt,
  expires: (info) => info.expiresAt ?? Number.POSITIVE_INFINITY,
  size: (info) => info.sizeBytes,
  hits: (info) => info.accessCount,
  lastAccess: (info) => info.lastAccess,
  key: (info) => info.key,
  model: (info) => info.model ?? '',
};

/**
 * The metadata of the backend's entries that match the filter, streamed from the store in batches
 * (ListingUnsupportedError when the backend cannot list). Without sort, memory stays flat whatever
 * the store's size.
 */
export async function* listEntries(backend: CacheBackend, options: ListEntriesOptions = {}): AsyncGenerator<EntryInfo> {
  const store = requireListing(backend);
  const matches = compileFilter(options);
  const { sort, descending = false, limit, batchSize } = options;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1))
    throw new InvalidOptionError('limit', limit, 'an integer >= 1');
  if (sort !== undefined && !(sort in SORT_VALUE)) throw new InvalidOptionError('sort', sort, `one of ${ENTRY_SORT_FIELDS.join(', ')}`);
  const listed = store.list({ ...(batchSize === undefined ? {} : { batchSize }), ...(options.within === undefined ? {} : { namespace: options.within }) });
  const now = Date.now();
  if (sort === undefined) {
    let count = 0;
    for await (const info of listed) {
      if (!matches(info, now)) continue;
      yield info;
      if (++count === limit) return;
    }
    return;
  }
  const value = SORT_VALUE[sort];
  const sign = descending ? -1 : 1;
  const compare = (a: EntryInfo, b: EntryInfo): number => {
    const x = value(a);
    const y = value(b);
    return sign * (x < y ? -1 : x > y ? 1 : 0);
  };
  let kept: EntryInfo[] = [];
  for await (const info of listed) {
    if (!matches(info, now)) continue;
    kept.push(info);
    // With a limit, only the best `limit` are kept: sort and cut whenever twice as many piled up.
    if (limit !== undefined && kept.length >= 2 * limit) kept = kept.sort(compare).slice(0, limit);
  }
  kept.sort(compare);
  yield* limit === undefined ? kept : kept.slice(0, limit);
}
