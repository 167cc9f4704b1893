/**
 * The entry tools and the dashboard under /tinyllm/: list, show, delete, prune, export and import
 * entries, the activity the dashboard plots, and the dashboard page. Every route is scoped like
 * stats and clear (a user key sees only its tenant's entries) and authorised by authorizeOps.
 */
import type { ServerResponse } from 'node:http';
import {
  canList,
  deleteEntries,
  ENTRY_SORT_FIELDS,
  type EntryFilter,
  type EntrySortField,
  exportEntries,
  ImportFormatError,
  importEntries,
  type ListEntriesOptions,
  type ListingBackend,
  listEntries,
  TinyLLMError,
} from '@tinyllm/cache-core';
import { entryViewOf } from '@tinyllm/cache-core/internal';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { OpsContext, OpsExchange } from './ops.js';
import { sendError, sendJson } from './respond.js';
import { OPS_ENTRY_PREFIX, pathnameOf } from './routes.js';

/** The operations of this module. */
export type EntryOperation = 'entries' | 'entry' | 'prune' | 'export' | 'import' | 'activity' | 'dashboard';

/** Their routes, operations and methods (merged into the operations table of ops.ts). */
export const ENTRY_ROUTE_OPERATIONS: Readonly<Record<string, { operation: EntryOperation; methods: readonly string[] }>> = {
  tinyllm_entries: { operation: 'entries', methods: ['GET', 'DELETE'] },
  tinyllm_entry: { operation: 'entry', methods: ['GET', 'DELETE'] },
  tinyllm_prune: { operation: 'prune', methods: ['POST'] },
  tinyllm_export: { operation: 'export', methods: ['GET'] },
  tinyllm_import: { operation: 'import', methods: ['POST'] },
  tinyllm_activity: { operation: 'activity', methods: ['GET'] },
  tinyllm_dashboard: { operation: 'dashboard', methods: ['GET'] },
};

/** A query parameter with a bad value: answered 400. */
class BadQueryError extends TinyLLMError<'TINYLLM_INVALID_QUERY'> {
  constructor(message: string) {
    super('TINYLLM_INVALID_QUERY', message);
  }
}

const NUMBER_PARAMS: ReadonlyArray<[string, keyof EntryFilter]> = [
  ['olderThan', 'olderThanSeconds'],
  ['newerThan', 'newerThanSeconds'],
  ['minBytes', 'minBytes'],
  ['maxBytes', 'maxBytes'],
];

/** The filter (and sort, limit) of a query: model, endpoint, olderThan, newerThan (seconds), minBytes, maxBytes, sort, desc, limit. */
function listOptionsOf(query: URLSearchParams, within: string | undefined): ListEntriesOptions {
  const options: ListEntriesOptions = {};
  if (within !== undefined) options.within = within;
  const model = query.get('model');
  if (model !== null && model !== '') options.model = model;
  const endpoint = query.get('endpoint');
  if (endpoint !== null && endpoint !== '') options.endpoint = endpoint;
  for (const [param, field] of NUMBER_PARAMS) {
    const raw = query.get(param);
    if (raw === null) continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < 0) throw new BadQueryError(`${param} must be a number >= 0, got ${JSON.stringify(raw)}`);
    (options as Record<string, number>)[field] = value;
  }
  const sort = query.get('sort');
  if (sort !== null) {
    if (!(ENTRY_SORT_FIELDS as readonly string[]).includes(sort)) throw new BadQueryError(`sort must be one of ${ENTRY_SORT_FIELDS.join(', ')}`);
    options.sort = sort as EntrySortField;
  }
  if (query.get('desc') === 'true' || query.get('desc') === '1') options.descending = true;
  const limit = query.get('limit');
  if (limit !== null) {
    const value = Number(limit);
    if (!Number.isInteger(value) || value < 1) throw new BadQueryError(`limit must be an integer >= 1, got ${JSON.stringify(limit)}`);
    options.limit = value;
  }
  return options;
}

/** Writes lines as NDJSON, waiting when the client reads slowly and stopping when it went away. */
async function streamLines(res: ServerResponse, lines: AsyncIterable<string>, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  for await (const line of lines) {
    if (res.destroyed) return;
    if (!res.write(`${line}\n`)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end();
}

async function* jsonLines<T>(items: AsyncIterable<T>): AsyncGenerator<string> {
  for await (const item of items) yield JSON.stringify(item);
}

/** Answers one request of an entry operation (authorisation already checked). */
export async function handleEntryOps(
  operation: EntryOperation,
  exchange: OpsExchange,
  context: OpsContext,
  scopeOf: (exchange: OpsExchange) => string | undefined,
): Promise<void> {
  const { res, req } = exchange;
  if (operation === 'dashboard') {
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(DASHBOARD_HTML),
      'Cache-Control': 'no-store',
      // The page runs only its own inline script and talks only to this proxy.
      'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      'Referrer-Policy': 'no-referrer',
    });
    res.end(DASHBOARD_HTML);
    return;
  }
  if (operation === 'activity') {
    const activity = context.counters.activity;
    const tenant = exchange.principal?.role === 'admin' ? undefined : exchange.principal?.tenant;
    sendJson(res, 200, JSON.stringify({ bucketMs: 5000, timeline: activity.timeline(), recent: activity.recent(tenant), prompts: activity.keepPrompts }));
    return;
  }
  const cache = context.cache;
  if (cache === undefined) {
    sendError(res, 501, 'this proxy has no cache: every request passes through', 'ollama');
    return;
  }
  const backend = cache.backend;
  if (!canList(backend)) {
    sendError(res, 501, `the ${backend.name} store cannot list its entries: use memory, SQLite or Redis`, 'ollama');
    return;
  }
  const query = new URL(exchange.path, 'http://proxy').searchParams;
  try {
    const within = scopeOf(exchange);
    switch (operation) {
      case 'entries':
        return await entries(exchange, backend, listOptionsOf(query, within), within);
      case 'entry':
        return await entry(exchange, backend, within);
      case 'prune': {
        const removed = await backend.prune(within === undefined ? undefined : { namespace: within });
        sendJson(res, 200, JSON.stringify({ removed }));
        return;
      }
      case 'export':
        return await streamLines(res, exportEntries(backend, listOptionsOf(query, within)), {
          'Content-Disposition': 'attachment; filename="tinyllm-cache.jsonl"',
        });
      case 'import': {
        const mode = query.get('mode') ?? 'merge';
        if (mode !== 'merge' && mode !== 'replace') throw new BadQueryError('mode must be merge or replace');
        const report = await importEntries(backend, req, { mode, ...(within === undefined ? {} : { within }) });
        sendJson(res, 200, JSON.stringify(report));
        return;
      }
    }
  } catch (error) {
    if (res.headersSent) {
      res.destroy(error as Error);
      return;
    }
    if (error instanceof BadQueryError || ImportFormatError.isInstance(error)) {
      sendError(res, 400, error.message, 'ollama');
      return;
    }
    throw error;
  }
}

/** GET: the entries' metadata as NDJSON; DELETE: removes the matching entries (at least one filter, or a scope). */
async function entries(exchange: OpsExchange, backend: ListingBackend, options: ListEntriesOptions, within: string | undefined): Promise<void> {
  const { req, res } = exchange;
  if (req.method === 'DELETE') {
    const { sort: _sort, descending: _descending, limit: _limit, ...filter } = options;
    if (Object.keys(filter).length === 0) {
      sendError(res, 400, 'give a filter (model, endpoint, olderThan...) or a namespace; POST /tinyllm/clear removes everything', 'ollama');
      return;
    }
    const removed = await deleteEntries(backend, filter);
    sendJson(res, 200, JSON.stringify(within === undefined ? { removed } : { removed, namespace: within }));
    return;
  }
  await streamLines(res, jsonLines(listEntries(backend, options)));
}

/** GET: one entry's metadata and value; DELETE: removes it. A key outside the caller's scope is answered 404, as if absent. */
async function entry(exchange: OpsExchange, backend: ListingBackend, within: string | undefined): Promise<void> {
  const { req, res } = exchange;
  let key: string;
  try {
    key = decodeURIComponent(pathnameOf(exchange.path).slice(OPS_ENTRY_PREFIX.length));
  } catch {
    throw new BadQueryError('the key in the path is not valid percent-encoding');
  }
  const inScope = within === undefined || key.startsWith(`${within}:`);
  const found = inScope ? await backend.peek(key) : undefined;
  if (found === undefined) {
    sendError(res, 404, `no entry under ${key.slice(0, 80)}`, 'ollama');
    return;
  }
  if (req.method === 'DELETE') {
    sendJson(res, 200, JSON.stringify({ removed: (await backend.delete(key)) ? 1 : 0 }));
    return;
  }
  sendJson(res, 200, JSON.stringify(entryViewOf(key, found)));
}
