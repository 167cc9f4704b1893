/**
 * The proxy's own routes under /tinyllm/: health (liveness), ready (readiness), metrics
 * (Prometheus), stats (JSON, as `tinyllm cache-stats --json`) and clear. They are never forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SharedCounters } from '@tinyllm/cache-core';
import { buildCacheStatsReport } from '@tinyllm/ollama-cached';
import { type AccessControl, checkFullNamespace, tenantNamespace } from './access.js';
import type { ProxyCache } from './cache.js';
import { checkNamespace } from './controls.js';
import { CACHE_LABELS, type ProxyCounters } from './counters.js';
import { ENTRY_ROUTE_OPERATIONS, type EntryOperation, handleEntryOps } from './entry-ops.js';
import type { Principal } from './keys.js';
import type { ProxyMetrics } from './metrics.js';
import { sendError, sendJson } from './respond.js';
import type { Route } from './routes.js';
import type { Upstream } from './upstream.js';

/** What the operations routes read. */
export interface OpsContext {
  /** The cache, when the proxy has one. */
  cache: ProxyCache | undefined;
  /** Where the cache lives, for the stats report (the SQLite file, Redis host:port...). */
  cacheLocation: string;
  /** The Prometheus registry and its scrape. */
  metrics: ProxyMetrics;
  /** The upstream Ollama. */
  upstream: Upstream;
  /** Deadline of each readiness probe (upstream, cache), in ms. */
  readyTimeoutMs: number;
  /** The proxy's counters (per-tenant requests, for a tenant's stats). */
  counters: ProxyCounters;
}

/** The request as the operations routes see it. */
export interface OpsExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly route: Route;
  /** The request's namespace: the one it named, inside its key's tenant when the proxy has keys. */
  readonly namespace: string | undefined;
  /** The namespace as the request named it (X-TinyLLM-Namespace or /ns/), before its tenant is put in front. */
  readonly requestedNamespace: string | undefined;
  /** Who sent the request (undefined without API keys, or for a public operation sent without a key). */
  readonly principal: Principal | undefined;
  /** The proxy's access rules. */
  readonly access: AccessControl;
}

/** The operations, for the authorisation check. */
export type OpsOperation = 'health' | 'ready' | 'metrics' | 'stats' | 'clear' | EntryOperation;

/** The key the readiness probe asks the store about (it never exists: only the answer's arrival matters). */
export const READY_PROBE_KEY = 'tinyllm:ready-probe';

/**
 * The one place where access to an operation is decided; every route under /tinyllm/ asks it, with
 * its own operation name. Without API keys every client may use every operation (the proxy binds
 * loopback unless told otherwise). With keys, each operation has a level (opsAccess): public (no
 * key needed), user (any valid key; what it sees is scoped to its tenant) or admin; an operation
 * without a level is admin-only. A request refused here is answered 401 when it had no valid key,
 * 403 otherwise (see denyOps).
 */
export function authorizeOps(exchange: OpsExchange, operation: OpsOperation | (string & {})): boolean {
  return exchange.access.allows(exchange.principal, operation);
}

/** Answers a request authorizeOps refused: 401 without a valid key, 403 for a key whose role may not use the operation. */
export function denyOps(exchange: OpsExchange, operation: string): void {
  if (exchange.principal === undefined) {
    sendError(exchange.res, 401, 'missing or invalid API key: send one as Authorization: Bearer <key>', 'ollama', {
      'WWW-Authenticate': 'Bearer realm="tinyllm"',
    });
    return;
  }
  sendError(exchange.res, 403, `forbidden: /tinyllm/${operation} needs an admin key`, 'ollama');
}

/** The operation of an operations route, e.g. "stats" for tinyllm_stats; undefined for an unknown path. */
export function operationOf(route: Route): OpsOperation | undefined {
  return ROUTE_OPERATIONS[route.id]?.operation;
}

const ROUTE_OPERATIONS: Record<string, { operation: OpsOperation; methods: readonly string[] }> = {
  tinyllm_health: { operation: 'health', methods: ['GET', 'HEAD'] },
  tinyllm_ready: { operation: 'ready', methods: ['GET', 'HEAD'] },
  tinyllm_metrics: { operation: 'metrics', methods: ['GET', 'HEAD'] },
  tinyllm_stats: { operation: 'stats', methods: ['GET', 'HEAD'] },
  tinyllm_clear: { operation: 'clear', methods: ['POST'] },
  ...ENTRY_ROUTE_OPERATIONS,
};

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Answers one request under /tinyllm/. */
export async function handleOps(exchange: OpsExchange, context: OpsContext, state: { readonly closing: boolean }): Promise<void> {
  const { req, res } = exchange;
  const spec = ROUTE_OPERATIONS[exchange.route.id];
  if (spec === undefined) {
    const pathname = exchange.path.split('?')[0];
    sendError(
      res,
      404,
      `no such TinyLLM route: ${pathname} (the proxy's routes are /tinyllm/health, ready, metrics, stats, clear, entries, prune, export, import, activity and dashboard)`,
      'ollama',
    );
    return;
  }
  const method = req.method ?? 'GET';
  if (!spec.methods.includes(method)) {
    sendError(res, 405, `${method} is not allowed on /tinyllm/${spec.operation}: use ${spec.methods.join(' or ')}`, 'ollama', {
      Allow: spec.methods.join(', '),
    });
    return;
  }
  if (!authorizeOps(exchange, spec.operation)) {
    if (exchange.principal === undefined) context.counters.unauthorized++;
    else context.counters.forbidden++;
    denyOps(exchange, spec.operation);
    return;
  }
  switch (spec.operation) {
    case 'health':
      sendJson(res, 200, JSON.stringify({ status: 'ok' }));
      return;
    case 'ready':
      return ready(res, context, state.closing);
    case 'metrics': {
      const text = await context.metrics.scrape();
      res.writeHead(200, { 'Content-Type': context.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(method === 'HEAD' ? undefined : text);
      return;
    }
    case 'stats':
      return stats(exchange, context);
    case 'clear':
      return clear(exchange, context);
    default:
      return handleEntryOps(spec.operation, exchange, context, scopeOf);
  }
}

/**
 * Readiness: the upstream (GET /api/version) and the cache (one lookup on the store) are probed and
 * reported separately. Not ready (503) when Ollama cannot be reached or the proxy is shutting down.
 * A failing cache is reported but does not make the proxy unready: every request still gets its
 * answer from Ollama (the cache fails open), so taking the proxy out of rotation would turn a cache
 * outage into an outage.
 */
async function ready(res: ServerResponse, context: OpsContext, closing: boolean): Promise<void> {
  const [upstream, cache] = await Promise.all([context.upstream.probe(context.readyTimeoutMs), probeCache(context)]);
  const isReady = upstream.ok && !closing;
  const body = { ready: isReady, ...(closing ? { shuttingDown: true } : {}), upstream, cache };
  sendJson(res, isReady ? 200 : 503, JSON.stringify(body));
}

async function probeCache(context: OpsContext): Promise<{ ok: boolean; backend?: string; error?: string }> {
  const cache = context.cache;
  if (cache === undefined) return { ok: false, error: 'no cache configured: every request passes through' };
  try {
    await withDeadline(Promise.resolve(cache.backend.has(READY_PROBE_KEY)), context.readyTimeoutMs, `the ${cache.backend.name} store`);
    return { ok: true, backend: cache.backend.name };
  } catch (error) {
    return { ok: false, backend: cache.backend.name, error: message(error) };
  }
}

/**
 * The namespace a stats or clear request is about, or undefined for the whole cache. Users (with API
 * keys) always get their tenant's namespace, or a sub-namespace inside it (`?namespace=`,
 * X-TinyLLM-Namespace, /ns/); admins get the whole cache unless they name a namespace (in full with
 * `?namespace=team-b` or `team-b:dev`, or inside their own tenant with the header or prefix).
 * Without keys, the namespace named, if any.
 */
export function scopeOf(exchange: OpsExchange): string | undefined {
  const query = new URL(exchange.path, 'http://proxy').searchParams.get('namespace');
  const { principal } = exchange;
  if (principal === undefined) return query === null ? exchange.namespace : checkNamespace(query, 'namespace query parameter');
  if (principal.role === 'admin') {
    if (query !== null) return checkFullNamespace(query, 'namespace query parameter');
    return exchange.requestedNamespace === undefined ? undefined : exchange.namespace;
  }
  return query === null ? exchange.namespace : tenantNamespace(principal.tenant, checkNamespace(query, 'namespace query parameter'));
}

/** What GET /tinyllm/stats answers for one namespace (a tenant's own view). */
export interface NamespaceStatsReport {
  /** The backend's name. */
  backend: string;
  /** Where the cache lives. */
  location: string;
  /** The namespace reported (entries whose key starts with `namespace:`; a tenant's includes its sub-namespaces). */
  namespace: string;
  /** Unexpired entries of the namespace. */
  entries: number;
  /** Their bytes (null when the store does not know). */
  bytes: number | null;
  /** Creation time of the oldest entry (ISO 8601), null when empty or unknown. */
  oldestCreatedAt: string | null;
  /** Creation time of the newest entry (ISO 8601), null when empty or unknown. */
  newestCreatedAt: string | null;
  /** The tenant's requests answered by this proxy process (when the namespace belongs to a tenant of the keys). */
  tenant?: { name: string; requests: number; hits: number; misses: number; coalesced: number; stale: number; bypassed: number; hitRate: number };
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

function tenantFigures(counters: ProxyCounters, tenant: string): NonNullable<NamespaceStatsReport['tenant']> {
  const of = (label: (typeof CACHE_LABELS)[number]): number => counters.tenantRequestsOf(tenant, label);
  // A stale answer is never a hit: it came after a miss that Ollama failed.
  const hits = of('hit');
  const misses = of('miss') + of('coalesced') + of('stale');
  const requests = CACHE_LABELS.reduce((sum, label) => sum + of(label), 0);
  return {
    name: tenant,
    requests,
    hits,
    misses,
    coalesced: of('coalesced'),
    stale: of('stale'),
    bypassed: of('bypass'),
    hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
  };
}

async function stats(exchange: OpsExchange, context: OpsContext): Promise<void> {
  const { res } = exchange;
  const cache = context.cache;
  if (cache === undefined) {
    sendError(res, 501, 'this proxy has no cache: every request passes through', 'ollama');
    return;
  }
  const namespace = scopeOf(exchange);
  if (namespace !== undefined) {
    // Only the namespace's own figures: the store-wide counters (hits, sets, evictions, errors of
    // every tenant) are for admins' unscoped report.
    const { backend } = await cache.getStats({ namespace });
    const tenant = namespace.split(':')[0] as string;
    const report: NamespaceStatsReport = {
      backend: cache.backend.name,
      location: context.cacheLocation,
      namespace,
      entries: backend?.entries ?? 0,
      bytes: backend?.bytes ?? null,
      oldestCreatedAt: iso(backend?.oldestCreatedAt),
      newestCreatedAt: iso(backend?.newestCreatedAt),
      ...(exchange.access.tenants.includes(tenant) ? { tenant: tenantFigures(context.counters, tenant) } : {}),
    };
    sendJson(res, 200, JSON.stringify(report));
    return;
  }
  const { metrics, backend, shared } = await cache.getStats();
  // Stores that keep counters (SQLite, Redis) report every process's; the others this process's.
  const counters: SharedCounters = shared ?? {
    hits: metrics.hits,
    misses: metrics.misses,
    sets: metrics.sets,
    errors: metrics.errors,
    evictions: metrics.evictions,
    savedDurationNs: metrics.savedDurationNs,
    savedTokens: metrics.savedTokens,
    byModel: metrics.byModel,
    stale: metrics.stale,
  };
  const report = buildCacheStatsReport({ backend: cache.backend.name, location: context.cacheLocation, exists: true, stats: backend, counters });
  sendJson(res, 200, JSON.stringify(report));
}

/**
 * POST /tinyllm/clear: removes the cache's entries, or only those of one namespace (see scopeOf: a
 * user's clear is always scoped to its tenant). A scoped clear removes the entries whose key starts
 * with `namespace:` (a tenant's sub-namespaces included) and nothing else; no clear ever touches
 * keys outside the cache's own store prefix.
 */
async function clear(exchange: OpsExchange, context: OpsContext): Promise<void> {
  const { res } = exchange;
  const cache = context.cache;
  if (cache === undefined) {
    sendError(res, 501, 'this proxy has no cache: every request passes through', 'ollama');
    return;
  }
  const namespace = scopeOf(exchange);
  const removed = await cache.clear(namespace === undefined ? undefined : { namespace });
  sendJson(res, 200, JSON.stringify(namespace === undefined ? { removed } : { removed, namespace }));
}
