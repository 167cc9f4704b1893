/** The proxy's options, their defaults, and their checks. */
import { InvalidOptionError, silentLogger } from '@tinyllm/cache-core';
import { resolveHost } from '@tinyllm/ollama-cached';
import type { ProxyCache } from './cache.js';
import type { CachedRouteHandler } from './handler.js';
import type { ProxyLogger } from './logger.js';

/** Every default of the proxy, in one place. */
export const PROXY_DEFAULTS = {
  port: 11435,
  host: '127.0.0.1',
  upstreamTimeoutMs: 0,
  upstreamConnectTimeoutMs: 10_000,
  bodyLimitBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  requestIdleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  shutdownGraceMs: 10_000,
  readyTimeoutMs: 2_000,
} as const;

/** Options of createProxyHandler (the request handler, for your own node:http server). */
export interface ProxyHandlerOptions {
  /** Ollama's address (`host`, `host:port`, `:port` or a URL). Default: $OLLAMA_HOST, else http://127.0.0.1:11434. */
  upstream?: string;
  /** Deadline for Ollama's response headers and between answer bytes, in ms; 0 = none (Ollama sends no header until a non-streaming generation ends). Default 0. */
  upstreamTimeoutMs?: number;
  /** Deadline to open a connection to Ollama, in ms. Default 10000. */
  upstreamConnectTimeoutMs?: number;
  /** Largest request body on a cached route, in bytes (large enough for images); beyond it 413. Pass-through routes have no limit. Default 67108864 (64 MiB). */
  bodyLimitBytes?: number;
  /** A request body that stops arriving for this long, in ms, has its connection closed (a slow client); 0 = never. Never applies to an answer being sent. Default 60000. */
  requestIdleTimeoutMs?: number;
  /** Browser origins allowed (exact, one `*` wildcard, or `*` for all). Default: Ollama's own: $OLLAMA_ORIGINS plus its local origins. */
  allowedOrigins?: readonly string[];
  /** The cache, for /tinyllm/stats, clear, metrics, readiness and shutdown (a ResponseCache fits). Default: none. */
  cache?: ProxyCache;
  /** Where the cache lives, shown by /tinyllm/stats (a file, host:port). Default: the backend's name. */
  cacheLocation?: string;
  /** Answers POST on the cached routes (the cache engine). Default: pass the request through unchanged, X-Cache: BYPASS. */
  cachedRoutes?: CachedRouteHandler;
  /** A pino-compatible logger: one info line per request, errors at error. Default: silent. */
  logger?: ProxyLogger;
  /** Export prom-client's default process metrics (CPU, memory, event loop, GC) too. Default true. */
  processMetrics?: boolean;
  /** Deadline of each readiness probe (upstream, cache) and of the cache read of a metrics scrape, in ms. Default 2000. */
  readyTimeoutMs?: number;
}

/** Options of startProxy (a ready node:http server): the handler's plus where to listen and how to time out. */
export interface ProxyServerOptions extends ProxyHandlerOptions {
  /** Port to listen on; 0 picks a free one. Default 11435. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (loopback). */
  host?: string;
  /** A client must send its request headers within this many ms (slow-header attacks). Default 30000. */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this many ms. Default 65000. */
  keepAliveTimeoutMs?: number;
  /** On close, requests in flight get this many ms to finish before their connections are cut. Default 10000. */
  shutdownGraceMs?: number;
  /** Close the cache (after letting pending writes land) when the proxy closes. Default true. */
  closeCache?: boolean;
}

/** ProxyHandlerOptions with every default filled in. */
export interface ResolvedHandlerOptions {
  upstream: string;
  upstreamTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  bodyLimitBytes: number;
  requestIdleTimeoutMs: number;
  allowedOrigins: readonly string[] | undefined;
  cache: ProxyCache | undefined;
  cacheLocation: string | undefined;
  cachedRoutes: CachedRouteHandler | undefined;
  logger: ProxyLogger;
  processMetrics: boolean;
  readyTimeoutMs: number;
}

const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of ms in [min, MAX_TIMER_MS] (0 allowed when zeroMeansNone). */
export function checkMs(option: string, value: unknown, zeroMeansNone: boolean, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value > MAX_TIMER_MS || (value < min && !(zeroMeansNone && value === 0))) {
    throw new InvalidOptionError(option, value, `a whole number of milliseconds between ${min} and ${MAX_TIMER_MS}${zeroMeansNone ? ', or 0 for none' : ''}`);
  }
  return value;
}

function checkUpstream(value: unknown): string {
  if (value !== undefined && (typeof value !== 'string' || value.trim() === ''))
    throw new InvalidOptionError('upstream', value, 'an Ollama address such as http://127.0.0.1:11434');
  let url: URL;
  try {
    url = new URL(resolveHost(value as string | undefined));
  } catch {
    throw new InvalidOptionError('upstream', value, 'an Ollama address such as http://127.0.0.1:11434');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError('upstream', value, 'an http:// or https:// address');
  return url.href.replace(/\/$/, '');
}

/** Checks the handler's options and fills in the defaults; a bad option throws InvalidOptionError naming it. */
export function resolveHandlerOptions(options: ProxyHandlerOptions): ResolvedHandlerOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
  const bodyLimitBytes = options.bodyLimitBytes ?? PROXY_DEFAULTS.bodyLimitBytes;
  if (typeof bodyLimitBytes !== 'number' || !Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new InvalidOptionError('bodyLimitBytes', bodyLimitBytes, 'a whole number of bytes >= 1');
  }
  const origins = options.allowedOrigins;
  if (origins !== undefined && (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string'))) {
    throw new InvalidOptionError('allowedOrigins', origins, 'an array of origin patterns such as "https://app.example.com" or "http://localhost:*"');
  }
  if (options.cachedRoutes !== undefined && typeof options.cachedRoutes !== 'function') {
    throw new InvalidOptionError('cachedRoutes', options.cachedRoutes, 'a function (request) => Promise<void>');
  }
  if (options.cache !== undefined && (typeof options.cache !== 'object' || options.cache === null || typeof options.cache.getStats !== 'function')) {
    throw new InvalidOptionError('cache', options.cache, 'a ResponseCache (or an object with backend, getStats, clear, flush and close)');
  }
  return {
    upstream: checkUpstream(options.upstream),
    upstreamTimeoutMs: checkMs('upstreamTimeoutMs', options.upstreamTimeoutMs ?? PROXY_DEFAULTS.upstreamTimeoutMs, true),
    upstreamConnectTimeoutMs: checkMs('upstreamConnectTimeoutMs', options.upstreamConnectTimeoutMs ?? PROXY_DEFAULTS.upstreamConnectTimeoutMs, false),
    bodyLimitBytes,
    requestIdleTimeoutMs: checkMs('requestIdleTimeoutMs', options.requestIdleTimeoutMs ?? PROXY_DEFAULTS.requestIdleTimeoutMs, true),
    allowedOrigins: origins,
    cache: options.cache,
    cacheLocation: options.cacheLocation,
    cachedRoutes: options.cachedRoutes,
    logger: options.logger ?? silentLogger,
    processMetrics: options.processMetrics !== false,
    readyTimeoutMs: checkMs('readyTimeoutMs', options.readyTimeoutMs ?? PROXY_DEFAULTS.readyTimeoutMs, false),
  };
}
