import type { CacheBackend } from '../contract.js';
import type { CacheEntry } from '../entry.js';
import { DEFAULT_LIST_BATCH } from '../listing.js';
import type { EntryFilter } from './filter.js';
import { listEntries, requireListing } from './list-entries.js';

/** The `format` of an export file's header line. */
export const EXPORT_FORMAT = 'tinyllm-cache-export';

/** The version of the export format this package writes (and the newest it reads). */
export const EXPORT_VERSION = 1;

/** The first line of an export file. */
export interface ExportHeader {
  /** Always EXPORT_FORMAT. */
  format: typeof EXPORT_FORMAT;
  /** The format version (EXPORT_VERSION when written by this package). */
  version: number;
  /** When the export was written, in ms since the epoch. */
  exportedAt: number;
}

/** One entry line of an export file. */
export interface ExportRecord {
  /** The key the entry was stored under. */
  key: string;
  /** The stored answer. */
  value: unknown;
  /** When the entry was written, in ms since the epoch. */
  createdAt: number;
  /** Seconds the entry had left when exported; null = no expiry. An import keeps this remaining TTL. */
  ttlSeconds: number | null;
  /** Reads of the entry so far (where the backend counts them). */
  accessCount: number;
  /** Last read, in ms since the epoch. */
  lastAccess: number;
  /** Size of the value in bytes (UTF-8 JSON). */
  sizeBytes: number;
  /** The model that produced the answer, or null. */
  model: string | null;
  /** The endpoint that produced the answer, or null. */
  endpoint: string | null;
  /** Seconds the entry is kept past its expiry for stale-if-error; absent: none. */
  staleSeconds?: number;
}

/** The record of an entry exported at `now`. */
export function exportRecordOf(key: string, entry: CacheEntry, now: number): ExportRecord {
  return {
    key,
    value: entry.value,
    createdAt: entry.createdAt,
    ttlSeconds: entry.expiresAt === null ? null : (entry.expiresAt - now) / 1000,
    accessCount: entry.accessCount,
    lastAccess: entry.lastAccess,
    sizeBytes: entry.sizeBytes,
    model: entry.model ?? null,
    endpoint: entry.endpoint ?? null,
    ...(typeof entry.staleUntil === 'number' && entry.expiresAt !== null ? { staleSeconds: (entry.staleUntil - entry.expiresAt) / 1000 } : {}),
  };
}

/**
 * The lines (without "\n") of an export of the entries that match the filter: a header line
 * ({format, version, exportedAt}), then one JSON record per entry with its remaining TTL. Streams:
 * values are read batch by batch (peek, which counts no access), never the whole store at once.
 * An entry that expires or goes between the listing and its read is left out.
 */
export async function* exportEntries(backend: CacheBackend, filter: EntryFilter = {}): AsyncGenerator<string> {
  const store = requireListing(backend);
  const header: ExportHeader = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: Date.now() };
  yield JSON.stringify(header);
  let keys: string[] = [];
  const drain = async function* (): AsyncGenerator<string> {
    const entries = await Promise.all(keys.map((key) => store.peek(key)));
    const now = Date.now();
    for (let i = 0; i < keys.length; i++) {
      const entry = entries[i];
      if (entry === undefined || (entry.expiresAt !== null && entry.expiresAt <= now)) continue;
      yield JSON.stringify(exportRecordOf(keys[i] as string, entry, now));
    }
    keys = [];
  };
  for await (const info of listEntries(store, filter)) {
    keys.push(info.key);
    if (keys.length >= DEFAULT_LIST_BATCH / 5) yield* drain();
  }
  yield* drain();
}
