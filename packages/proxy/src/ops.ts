/**
 * The proxy's own routes under /tinyllm/: health (liveness), ready (readiness), metrics
 * (Prometheus), stats (JSON, as `tinyllm cache-stats --json`) and clear. They are never forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SharedCounters } from '@tinyllm/cache-core';
import { buildCacheStatsReport } from '@tinyllm/ollama-cached';
import type { ProxyCache } from './cache.js';
import { checkNamespace } from './controls.js';
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
}

/** The request as the operations routes see it. */
export interface OpsExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly route: Route;
  readonly namespace: string | undefined;
}

/** The operations, for the authorisation check. */
export type OpsOperation = 'health' | 'ready' | 'metrics' | 'stats' | 'clear';

/** The key the readiness probe asks the store about (it never exists: only the answer's arrival matters). */
export const READY_PROBE_KEY = 'tinyllm:ready-probe';

/**
 * The one place where access to an operation is decided. Today every client that reached the proxy
 * may use every operation (the proxy binds loopback unless told otherwise); API keys and admin-only
 * operations (issue 12) plug in here.
 */
export function authorizeOps(_exchange: OpsExchange, _operation: OpsOperation): boolean {
  return true;
}

const ROUTE_OPERATIONS: Record<string, { operation: OpsOperation; methods: readonly string[] }> = {
  tinyllm_health: { operation: 'health', methods: ['GET', 'HEAD'] },
  tinyllm_ready: { operation: 'ready', methods: ['GET', 'HEAD'] },
  tinyllm_metrics: { operation: 'metrics', methods: ['GET', 'HEAD'] },
  tinyllm_stats: { operation: 'stats', methods: ['GET', 'HEAD'] },
  tinyllm_clear: { operation: 'clear', methods: ['POST'] },
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
    sendError(res, 404, `no such TinyLLM route: ${pathname} (the proxy's routes are /tinyllm/health, ready, metrics, stats and clear)`, 'ollama');
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
    sendError(res, 403, `not allowed: /tinyllm/${spec.operation}`, 'ollama');
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
      return stats(res, context);
    case 'clear':
      return clear(exchange, context);
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

async function stats(res: ServerResponse, context: OpsContext): Promise<void> {
  const cache = context.cache;
  if (cache === undefined) {
    sendError(res, 501, 'this proxy has no cache: every request passes through', 'ollama');
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
  };
  const report = buildCacheStatsReport({ backend: cache.backend.name, location: context.cacheLocation, exists: true, stats: backend, counters });
  sendJson(res, 200, JSON.stringify(report));
}

/**
 * POST /tinyllm/clear: removes the cache's entries. Scoped to a namespace by `?namespace=` or the
 * request's namespace (X-TinyLLM-Namespace, /ns/<name>/). Until the cache contract can clear one
 * namespace (clear({ namespace }), in progress), a namespaced clear answers 501 rather than
 * clearing everything.
 */
async function clear(exchange: OpsExchange, context: OpsContext): Promise<void> {
  const { res } = exchange;
  const cache = context.cache;
  if (cache === undefined) {
    sendError(res, 501, 'this proxy has no cache: every request passes through', 'ollama');
    return;
  }
  const query = new URL(exchange.path, 'http://proxy').searchParams.get('namespace');
  const namespace = query === null ? exchange.namespace : checkNamespace(query, 'namespace query parameter');
  if (namespace !== undefined) {
    sendError(res, 501, `clearing one namespace ("${namespace}") is not supported by this cache yet; send no namespace to clear the whole cache`, 'ollama');
    return;
  }
  const removed = await cache.clear();
  sendJson(res, 200, JSON.stringify({ removed }));
}
