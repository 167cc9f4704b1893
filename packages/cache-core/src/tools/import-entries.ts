import { jsonTextOf } from '../codec.js';
import type { CacheBackend } from '../contract.js';
import { MAX_TTL_SECONDS, measureValueBytes } from '../create-entry.js';
import type { CacheEntry } from '../entry.js';
import { InvalidOptionError } from '../errors.js';
import { assertNamespace } from '../keys.js';
import { ImportFormatError } from './errors.js';
import { EXPORT_FORMAT, EXPORT_VERSION } from './export-entries.js';

/** Options of importEntries. */
export interface ImportOptions {
  /** merge: add the file's entries to the cache (a key in both takes the file's entry); replace: clear the cache (or options.namespace) first. @default 'merge' */
  mode?: 'merge' | 'replace';
  /** With mode replace, clear only this key namespace's entries. @default every entry of the backend */
  namespace?: string;
  /** Accept only keys that start with `within + ":"` (a tenant's scope); others are reported as problems. With mode replace, only that scope is cleared. @default every key */
  within?: string;
}

/** A line of the file that was not imported, and why. */
export interface ImportProblem {
  /** 1-based line number in the file. */
  line: number;
  /** What is wrong with it. */
  message: string;
}

/** What importEntries did. */
export interface ImportReport {
  /** Entries written. */
  imported: number;
  /** Entries whose remaining TTL had run out by the time of the import (not written, not a problem). */
  expired: number;
  /** Entries cleared first (mode replace). */
  cleared: number;
  /** Lines skipped because they are not valid records (or the backend refused them), by line number. */
  problems: ImportProblem[];
}

/** Writes in flight at once during an import. */
const IMPORT_BATCH = 100;

/**
 * Where an import reads from: an async iterable of chunks (a file stream: split into lines wherever
 * they fall), or an iterable of strings, each a line or several (an element always ends a line).
 */
export type ImportSource = AsyncIterable<string | Uint8Array> | Iterable<string>;

/** The longest line an import reads, in characters: one entry's record (a 1 MiB answer is far below it). */
export const MAX_IMPORT_LINE_CHARS = 64 * 1024 * 1024;

/** The lines of an import source, split on "\n", a trailing "\r" dropped; a line longer than maxLineChars throws ImportFormatError (memory stays bounded). */
export async function* splitLines(source: ImportSource, maxLineChars: number = MAX_IMPORT_LINE_CHARS): AsyncGenerator<string> {
  if (!(Symbol.asyncIterator in source)) {
    for (const text of source) {
      const lines = text.split('\n');
      if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) yield line.replace(/\r$/, '');
    }
    return;
  }
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = rest.indexOf('\n');
    while (newline >= 0) {
      yield rest.slice(0, newline).replace(/\r$/, '');
      rest = rest.slice(newline + 1);
      newline = rest.indexOf('\n');
    }
    if (rest.length > maxLineChars) throw new ImportFormatError(`a line is longer than ${maxLineChars} characters`);
  }
  rest += decoder.decode();
  if (rest !== '') yield rest.replace(/\r$/, '');
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isLabel = (value: unknown): value is string | null | undefined => value === undefined || value === null || typeof value === 'string';

/** The entry a record describes, imported at `now`; a string saying what is wrong, or 'expired'. */
export function entryOfRecord(record: unknown, now: number): { key: string; entry: CacheEntry } | 'expired' | string {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return 'not a JSON object';
  const r = record as Record<string, unknown>;
  if (typeof r.key !== 'string' || r.key === '') return '"key" must be a non-empty string';
  if (!('value' in r) || jsonTextOf(r.value) === undefined) return '"value" is missing';
  if (!isFiniteNumber(r.createdAt) || r.createdAt < 0) return '"createdAt" must be a time in ms since the epoch';
  const ttl = r.ttlSeconds;
  if (!(ttl === null || (isFiniteNumber(ttl) && ttl <= MAX_TTL_SECONDS))) return `"ttlSeconds" must be null or a number of seconds <= ${MAX_TTL_SECONDS}`;
  for (const field of ['accessCount', 'lastAccess', 'sizeBytes'] as const) {
    if (r[field] !== undefined && (!isFiniteNumber(r[field]) || (r[field] as number) < 0)) return `"${field}" must be a number >= 0`;
  }
  if (!isLabel(r.model) || !isLabel(r.endpoint)) return '"model" and "endpoint" must be strings or null';
  const stale = r.staleSeconds;
  if (stale !== undefined && !(isFiniteNumber(stale) && stale >= 0 && stale <= MAX_TTL_SECONDS))
    return `"staleSeconds" must be a number of seconds >= 0 and <= ${MAX_TTL_SECONDS}`;
  if (ttl !== null && ttl <= 0) return 'expired';
  const entry: CacheEntry = {
    value: r.value,
    createdAt: r.createdAt,
    expiresAt: ttl === null ? null : now + Math.ceil(ttl * 1000),
    accessCount: (r.accessCount as number | undefined) ?? 0,
    lastAccess: (r.lastAccess as number | undefined) ?? r.createdAt,
    sizeBytes: measureValueBytes(r.value),
  };
  if (typeof r.model === 'string') entry.model = r.model;
  if (typeof r.endpoint === 'string') entry.endpoint = r.endpoint;
  // The stale-if-error window survives the move: the same seconds past the entry's new expiry.
  if (typeof stale === 'number' && stale > 0 && entry.expiresAt !== null) entry.staleUntil = entry.expiresAt + Math.round(stale * 1000);
  return { key: r.key, entry };
}

/** Checks the header line; throws ImportFormatError when it is not an export this version reads. */
function checkHeader(line: string | undefined): void {
  if (line === undefined) throw new ImportFormatError('the file is empty');
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw new ImportFormatError('line 1 is not the JSON header {"format":"tinyllm-cache-export","version":1,...}');
  }
  const h = header as Record<string, unknown> | null;
  if (h === null || typeof h !== 'object' || h.format !== EXPORT_FORMAT) throw new ImportFormatError(`line 1 does not say "format":"${EXPORT_FORMAT}"`);
  if (!Number.isInteger(h.version) || (h.version as number) < 1 || (h.version as number) > EXPORT_VERSION) {
    throw new ImportFormatError(`format version ${JSON.stringify(h.version)} is not one this version reads (1..${EXPORT_VERSION})`);
  }
}

/**
 * Imports an export (see exportEntries) into backend: validates every record, writes the valid ones
 * with their remaining TTL, and reports each bad line by number (skipped, never fatal). A file whose
 * header is missing or of another format or a newer version throws ImportFormatError before anything
 * is written or cleared.
 */
export async function importEntries(backend: CacheBackend, source: ImportSource, options: ImportOptions = {}): Promise<ImportReport> {
  const mode = options.mode ?? 'merge';
  if (mode !== 'merge' && mode !== 'replace') throw new InvalidOptionError('mode', mode, '"merge" or "replace"');
  assertNamespace(options.namespace, 'namespace');
  assertNamespace(options.within, 'within');
  const scope = options.within === undefined ? undefined : `${options.within}:`;
  const clearScope = options.within ?? options.namespace;
  const report: ImportReport = { imported: 0, expired: 0, cleared: 0, problems: [] };
  let writes: Array<Promise<ImportProblem | undefined>> = [];
  const settle = async (): Promise<void> => {
    for (const outcome of await Promise.all(writes)) {
      if (outcome === undefined) report.imported++;
      else report.problems.push(outcome);
    }
    writes = [];
  };
  let lineNumber = 0;
  for await (const line of splitLines(source)) {
    lineNumber++;
    if (lineNumber === 1) {
      checkHeader(line);
      if (mode === 'replace') report.cleared = await backend.clear(clearScope === undefined ? undefined : { namespace: clearScope });
      continue;
    }
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      report.problems.push({ line: lineNumber, message: 'not valid JSON (damaged or cut short)' });
      continue;
    }
    const parsed = entryOfRecord(record, Date.now());
    if (parsed === 'expired') {
      report.expired++;
      continue;
    }
    if (typeof parsed === 'string') {
      report.problems.push({ line: lineNumber, message: parsed });
      continue;
    }
    if (scope !== undefined && !parsed.key.startsWith(scope)) {
      report.problems.push({ line: lineNumber, message: `the key is outside the namespace ${options.within}` });
      continue;
    }
    // Writes go out in batches (a network store pipelines them); outcomes are read in line order.
    const at = lineNumber;
    writes.push(
      Promise.resolve()
        .then(() => backend.set(parsed.key, parsed.entry))
        .then(
          (stored): ImportProblem | undefined =>
            stored === false ? { line: at, message: 'the backend refused the entry (larger than its bounds)' } : undefined,
          (error: unknown): ImportProblem => ({ line: at, message: `the backend failed: ${error instanceof Error ? error.message : String(error)}` }),
        ),
    );
    if (writes.length >= IMPORT_BATCH) await settle();
  }
  await settle();
  report.problems.sort((a, b) => a.line - b.line);
  if (lineNumber === 0) checkHeader(undefined);
  return report;
}
