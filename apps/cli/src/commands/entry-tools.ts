import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  type CacheBackend,
  type CacheEntry,
  deleteEntries,
  type EntryFilter,
  type EntryInfo,
  type EntrySortField,
  exportEntries,
  ImportFormatError,
  importEntries,
  ListingUnsupportedError,
  listEntries,
  pruneEntries,
  requireListing,
} from '@tinyllm/cache-core';
import { entryViewOf } from '@tinyllm/cache-core/internal';
import { DEFAULTS } from '../config.js';
import { CliError, describeError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatBytes, formatCount, formatDuration, formatTimestamp } from '../format.js';
import { closeQuietly, type OpenedCache, openCache, openExistingStore } from '../open-cache.js';
import type { CommandContext } from '../program.js';
import { askYesNo } from './cache-clear.js';

/** The filter flags of cache-list, cache-delete and cache-export. */
export interface FilterFlags {
  model?: string;
  namespace?: string;
  endpoint?: string;
  olderThan?: number;
  newerThan?: number;
  minSize?: number;
  maxSize?: number;
}

/** Options of `tinyllm cache-list`. */
export interface CacheListOptions extends FilterFlags {
  sort?: EntrySortField;
  desc?: boolean;
  limit?: number;
  json?: boolean;
}

/** The filter of the flags. */
export function filterOf(flags: FilterFlags): EntryFilter {
  const filter: EntryFilter = {};
  if (flags.model !== undefined) filter.model = flags.model;
  if (flags.namespace !== undefined) filter.namespace = flags.namespace;
  if (flags.endpoint !== undefined) filter.endpoint = flags.endpoint;
  if (flags.olderThan !== undefined) filter.olderThanSeconds = flags.olderThan;
  if (flags.newerThan !== undefined) filter.newerThanSeconds = flags.newerThan;
  if (flags.minSize !== undefined) filter.minBytes = flags.minSize;
  if (flags.maxSize !== undefined) filter.maxBytes = flags.maxSize;
  return filter;
}

/** Opens the store (an existing one unless create), runs work on it, closes it, and turns store failures into messages. */
async function withStore(
  context: CommandContext,
  create: boolean,
  work: (opened: OpenedCache) => Promise<ExitCode>,
  onMissing?: () => ExitCode,
): Promise<ExitCode> {
  const { output, cache } = context;
  let opened: OpenedCache | undefined;
  if (create) {
    opened = await openCache(cache, { onWarning: output.warn });
  } else {
    const store = await openExistingStore(cache, output);
    if (store.kind === 'failed') return EXIT.failure;
    if (store.kind === 'missing') return onMissing ? onMissing() : EXIT.ok;
    opened = store.opened;
  }
  if (opened === undefined) return EXIT.failure;
  if (opened.kind === 'memory') {
    output.info(output.err.dim('note: the memory backend lives inside one process: a new process has no entries; use sqlite or redis'));
  }
  try {
    return await work(opened);
  } catch (error) {
    if (ImportFormatError.isInstance(error)) throw new UsageError(error.message);
    if (ListingUnsupportedError.isInstance(error)) throw new CliError(error.message);
    if (error instanceof UsageError || error instanceof CliError) throw error;
    const described = describeError(error, { ollamaHost: DEFAULTS.ollamaHost, store: { kind: opened.kind, location: opened.location } });
    output.error(described.message);
    return described.exitCode;
  } finally {
    await closeQuietly(opened);
  }
}

/** "3 min", "2 h 4 min" from now to a time, or "-" / "never". */
const ageOf = (ms: number, now: number): string => formatDuration(now - ms);
const expiresIn = (expiresAt: number | null, now: number): string => (expiresAt === null ? 'never' : formatDuration(expiresAt - now));

/** The table of a listing: short key, model, endpoint, age, expiry, size, hits, last use. */
export function entryTable(infos: EntryInfo[], now: number = Date.now()): string {
  const cells = [
    ['key', 'model', 'endpoint', 'age', 'expires in', 'size', 'hits', 'last used'],
    ...infos.map((info) => [
      (info.namespace === null ? '' : `${info.namespace}:`) +
        info.key.slice(info.namespace === null ? 0 : info.namespace.length + 1, (info.namespace === null ? 0 : info.namespace.length + 1) + 16),
      info.model ?? '-',
      info.endpoint ?? '-',
      ageOf(info.createdAt, now),
      expiresIn(info.expiresAt, now),
      formatBytes(info.sizeBytes),
      formatCount(info.accessCount),
      `${ageOf(info.lastAccess, now)} ago`,
    ]),
  ];
  const widths = (cells[0] as string[]).map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)));
  const right = new Set([5, 6]);
  return cells
    .map((row) =>
      row
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `tinyllm cache-list`: the entries' metadata (no answers), filtered and sorted; a table, or JSON lines with --json. */
export async function cacheListCommand(options: CacheListOptions, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  return withStore(context, false, async (opened) => {
    const source = listEntries(opened.backend, {
      ...filterOf(options),
      ...(options.sort === undefined ? {} : { sort: options.sort }),
      ...(options.desc ? { descending: true } : {}),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    if (options.json) {
      // One JSON object per line, written as they come: a listing of any size streams.
      for await (const info of source) {
        if (output.stdoutClosed) break;
        output.print(`${JSON.stringify(info)}\n`);
      }
      return EXIT.ok;
    }
    // The table needs its column widths: it is printed in pages of 500 rows.
    let page: EntryInfo[] = [];
    let count = 0;
    let bytes = 0;
    for await (const info of source) {
      page.push(info);
      count++;
      bytes += info.sizeBytes;
      if (page.length === 500) {
        output.line(entryTable(page));
        page = [];
      }
    }
    if (page.length > 0 || count === 0) output.line(entryTable(page));
    output.info(
      output.err.dim(
        `${formatCount(count)} ${count === 1 ? 'entry' : 'entries'}, ${formatBytes(bytes)} of answers in the ${opened.kind} cache at ${opened.location}`,
      ),
    );
    return EXIT.ok;
  });
}

/** The unexpired entry under key, or under the one key that starts with key (a prefix of 8 characters or more, as the table and X-TinyLLM-Key show). */
async function findEntry(backend: CacheBackend, key: string): Promise<{ key: string; entry: CacheEntry } | undefined> {
  const store = requireListing(backend);
  const exact = await store.peek(key);
  if (exact !== undefined) return { key, entry: exact };
  if (key.length < 8) return undefined;
  const matches: string[] = [];
  for await (const info of store.list()) {
    const bare = info.namespace === null ? info.key : info.key.slice(info.namespace.length + 1);
    if (info.key.startsWith(key) || bare.startsWith(key)) matches.push(info.key);
    if (matches.length > 1) throw new UsageError(`more than one entry starts with ${key}: give more of the key`);
  }
  const found = matches[0];
  if (found === undefined) return undefined;
  const entry = await store.peek(found);
  return entry === undefined ? undefined : { key: found, entry };
}

/** The answer text of a stored response: generate's response, chat's message, an embedding's size. */
export function answerTextOf(value: unknown): string {
  const record = value as { kind?: unknown; response?: Record<string, unknown>; chunks?: unknown[] } | null;
  const body = (record?.response ?? record) as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return JSON.stringify(value);
  if (typeof body.response === 'string') return body.response;
  const message = body.message as { content?: unknown } | undefined;
  if (typeof message?.content === 'string') return message.content;
  const choices = body.choices as Array<{ message?: { content?: unknown }; text?: unknown }> | undefined;
  const choice = choices?.[0];
  if (typeof choice?.message?.content === 'string') return choice.message.content;
  if (typeof choice?.text === 'string') return choice.text;
  if (Array.isArray(body.embeddings)) return `(${body.embeddings.length} embeddings)`;
  if (Array.isArray(body.embedding)) return `(an embedding of ${body.embedding.length} numbers)`;
  return JSON.stringify(value, null, 2);
}

/** `tinyllm cache-show KEY`: one entry's metadata and its answer (with --json: the whole stored value). */
export async function cacheShowCommand(key: string, options: { json?: boolean }, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  return withStore(
    context,
    false,
    async (opened) => {
      const found = await findEntry(opened.backend, key);
      if (found === undefined) throw new CliError(`no entry under ${key} in the ${opened.kind} cache at ${opened.location} (see tinyllm cache-list)`);
      const { entry } = found;
      const now = Date.now();
      if (options.json) {
        output.json(entryViewOf(found.key, entry));
        return EXIT.ok;
      }
      const rows: Array<[string, string]> = [
        ['key', found.key],
        ['model', entry.model ?? '-'],
        ['endpoint', entry.endpoint ?? '-'],
        ['created', formatTimestamp(entry.createdAt, now)],
        ['expires', entry.expiresAt === null ? 'never' : `in ${formatDuration(entry.expiresAt - now)}`],
        ['size', formatBytes(entry.sizeBytes)],
        ['hits', formatCount(entry.accessCount)],
        ['last used', formatTimestamp(entry.lastAccess, now)],
      ];
      output.line(rows.map(([label, value]) => `${output.out.bold(label.padEnd(9))}  ${value}`).join('\n'));
      output.line('');
      const text = answerTextOf(entry.value);
      output.print(text.endsWith('\n') ? text : `${text}\n`);
      return EXIT.ok;
    },
    () => {
      throw new CliError(`no entry under ${key}: the cache does not exist yet`);
    },
  );
}

/** Options of `tinyllm cache-delete`. */
export interface CacheDeleteOptions extends FilterFlags {
  confirm?: boolean;
  json?: boolean;
}

/** `tinyllm cache-delete [KEY]`: removes one entry, or every entry matching the filter flags (asking first on a terminal). */
export async function cacheDeleteCommand(key: string | undefined, options: CacheDeleteOptions, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  const filter = filterOf(options);
  const byFilter = Object.keys(filter).length > 0;
  if (key === undefined && !byFilter) {
    throw new UsageError('say what to delete: a KEY, or --model, --namespace, --endpoint, --older-than... (tinyllm cache-clear removes everything)');
  }
  if (key !== undefined && byFilter) throw new UsageError('give either a KEY or filter flags, not both');
  const confirm = options.confirm !== false;
  if (byFilter && confirm && !output.stdinIsTTY) {
    throw new UsageError('refusing to delete entries by filter without confirmation: stdin is not a terminal. Add --no-confirm to delete them anyway.');
  }
  const report = (removed: number): ExitCode => {
    if (options.json) output.json({ removed });
    else output.line(`removed ${formatCount(removed)} ${removed === 1 ? 'entry' : 'entries'}`);
    return EXIT.ok;
  };
  return withStore(
    context,
    false,
    async (opened) => {
      if (key !== undefined) {
        const found = await findEntry(opened.backend, key);
        if (found === undefined) throw new CliError(`no entry under ${key} (see tinyllm cache-list)`);
        return report((await opened.backend.delete(found.key)) ? 1 : 0);
      }
      if (confirm) {
        let count = 0;
        for await (const _ of listEntries(opened.backend, filter)) count++;
        if (count === 0) return report(0);
        const answer = await askYesNo(
          `Remove ${formatCount(count)} ${count === 1 ? 'entry' : 'entries'} from the ${opened.kind} cache at ${opened.location}? [y/N] `,
        );
        if (answer !== 'yes') {
          output.info(answer === 'interrupted' ? '\ninterrupted: nothing removed' : 'cancelled: nothing removed');
          return answer === 'interrupted' ? EXIT.interrupted : EXIT.ok;
        }
      }
      return report(await deleteEntries(opened.backend, filter));
    },
    () => report(0),
  );
}

/** `tinyllm cache-prune`: removes expired entries. */
export async function cachePruneCommand(options: { json?: boolean }, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  const report = (removed: number): ExitCode => {
    if (options.json) output.json({ removed });
    else output.line(`removed ${formatCount(removed)} expired ${removed === 1 ? 'entry' : 'entries'}`);
    return EXIT.ok;
  };
  return withStore(
    context,
    false,
    async (opened) => report(await pruneEntries(opened.backend)),
    () => report(0),
  );
}

/** `tinyllm cache-export FILE`: the matching entries as JSON lines (a header line, then one record each, with its remaining TTL); "-" writes stdout. */
export async function cacheExportCommand(file: string, options: FilterFlags & { json?: boolean }, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  return withStore(context, false, async (opened) => {
    const toStdout = file === '-';
    const stream = toStdout ? undefined : createWriteStream(file);
    let entries = -1; // the header is not an entry
    let bytes = 0;
    try {
      for await (const line of exportEntries(opened.backend, filterOf(options))) {
        const text = `${line}\n`;
        entries++;
        bytes += Buffer.byteLength(text);
        if (stream === undefined) {
          if (output.stdoutClosed) break;
          output.print(text);
        } else if (!stream.write(text)) {
          await once(stream, 'drain');
        }
      }
    } finally {
      if (stream !== undefined) {
        stream.end();
        await once(stream, 'close');
      }
    }
    const summary = { exported: entries, bytes, file: toStdout ? '-' : file };
    if (options.json && !toStdout) output.json(summary);
    else output.info(`exported ${formatCount(entries)} ${entries === 1 ? 'entry' : 'entries'} (${formatBytes(bytes)}) to ${toStdout ? 'stdout' : file}`);
    return EXIT.ok;
  });
}

/** Options of `tinyllm cache-import`. */
export interface CacheImportOptions {
  replace?: boolean;
  merge?: boolean;
  json?: boolean;
}

/** `tinyllm cache-import FILE`: reads an export ("-": stdin), keeps each entry's remaining TTL, reports bad lines by number (exit 1 when there were any). */
export async function cacheImportCommand(file: string, options: CacheImportOptions, context: CommandContext): Promise<ExitCode> {
  const { output } = context;
  if (options.replace && options.merge) throw new UsageError('give --merge or --replace, not both');
  const source = file === '-' ? process.stdin : createReadStream(file);
  if (file !== '-') {
    // A missing or unreadable file is a usage error, said before the store is touched.
    await new Promise<void>((resolve, reject) => {
      source.once('readable', resolve);
      source.once('error', (error: Error) => reject(new UsageError(`cannot read ${file}: ${(error as Error).message}`)));
    });
  }
  return withStore(context, true, async (opened) => {
    const report = await importEntries(opened.backend, source as AsyncIterable<Uint8Array>, { mode: options.replace ? 'replace' : 'merge' });
    for (const problem of report.problems) output.warn(`line ${problem.line}: ${problem.message} (skipped)`);
    if (options.json) output.json(report);
    else {
      const cleared = report.cleared > 0 ? `, after removing ${formatCount(report.cleared)}` : '';
      const expired = report.expired > 0 ? `; ${formatCount(report.expired)} had expired` : '';
      const bad = report.problems.length > 0 ? `; ${formatCount(report.problems.length)} bad ${report.problems.length === 1 ? 'line' : 'lines'} skipped` : '';
      output.line(
        `imported ${formatCount(report.imported)} ${report.imported === 1 ? 'entry' : 'entries'} into the ${opened.kind} cache at ${opened.location}${cleared}${expired}${bad}`,
      );
    }
    return report.problems.length > 0 ? EXIT.failure : EXIT.ok;
  });
}
