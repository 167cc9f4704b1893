/** The proxy's options, their defaults, and their checks. */
import { InvalidOptionError, silentLogger } from '@tinyllm/cache-core';
import { resolveHost } from '@tinyllm/ollama-cached';
import type { OpsAccess, OpsAccessLevel } from './access.js';
import type { ProxyCache } from './cache.js';
import type { CachedRouteHandler } from './handler.js';
import type { KeysConfig } from './keys.js';
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
  maxUpstreamGenerations: 4,
  maxUpstreamQueue: 512,
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
  /** A keys file (JSON, see the README): every request then needs `Authorization: Bearer <key>`, and each key's tenant is its namespace. Read at start and by reloadKeys(). Default: none (no keys). */
  keysFile?: string;
  /** The keys file's content given directly (instead of keysFile). Default: none. */
  keys?: KeysConfig;
  /** Who may use each /tinyllm/ operation when the proxy has keys: 'public', 'user' or 'admin'; unnamed operations are admin-only. Default: health and ready public, stats and clear per tenant for users, metrics admin-only. */
  opsAccess?: Partial<Record<string, OpsAccessLevel>>;
  /** Send the client's Authorization header on to Ollama. Default: true without keys (the proxy does not read it), false with keys (it carries a key of the proxy's). */
  forwardAuthorization?: boolean;
  /** Most generations (requests to Ollama's model routes: cache misses and uncached model calls) running at Ollama at once; 0 = no bound. Cache hits never count. Default $OLLAMA_NUM_PARALLEL, else 4. */
  maxUpstreamGenerations?: number;
  /** Most requests waiting for a generation slot; beyond it 503 with Retry-After. Default $OLLAMA_MAX_QUEUE, else 512. */
  maxUpstreamQueue?: number;
  /** Show the prompt (its first 200 characters) of recent requests on the dashboard (/tinyllm/activity). Default false: prompts are never kept. */
  dashboardPrompts?: boolean;
  /** Bind cache keys to the model's digest from Ollama's /api/tags: a re-pulled or re-created model never serves the old model's answers. Default false. */
  bindModelDigest?: boolean;
  /** With bindModelDigest: how long a lookup of /api/tags is trusted, in seconds. Default 10. */
  modelDigestTtl?: number;
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
  keysFile: string | undefined;
  keys: KeysConfig | undefined;
  opsAccess: Partial<OpsAccess> | undefined;
  forwardAuthorization: boolean | undefined;
  dashboardPrompts: boolean;
  maxUpstreamGenerations: number;
  maxUpstreamQueue: number;
  bindModelDigest: boolean;
  modelDigestTtl: number | undefined;
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

/** A count option: a whole number in [min, max]. */
function checkCount(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

/** An environment variable's whole number, when it holds a valid one (Ollama's own variables, read for defaults). */
function envCount(name: string, min: number): number | undefined {
  const text = process.env[name]?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= 100_000 ? value : undefined;
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
  if (options.keysFile !== undefined && (typeof options.keysFile !== 'string' || options.keysFile.trim() === '')) {
    throw new InvalidOptionError('keysFile', options.keysFile, 'the path of a keys file (JSON)');
  }
  if (options.keysFile !== undefined && options.keys !== undefined) throw new InvalidOptionError('keys', '(given)', 'either keysFile or keys, not both');
  if (options.forwardAuthorization !== undefined && typeof options.forwardAuthorization !== 'boolean') {
    throw new InvalidOptionError('forwardAuthorization', options.forwardAuthorization, 'true or false');
  }
  if (options.bindModelDigest !== undefined && typeof options.bindModelDigest !== 'boolean') {
    throw new InvalidOptionError('bindModelDigest', options.bindModelDigest, 'true or false');
  }
  const digestTtl = options.modelDigestTtl;
  if (digestTtl !== undefined && (typeof digestTtl !== 'number' || !Number.isFinite(digestTtl) || digestTtl <= 0 || digestTtl > 86_400)) {
    throw new InvalidOptionError('modelDigestTtl', digestTtl, 'a number of seconds > 0 and at most 86400');
  }
  if (options.opsAccess !== undefined && (typeof options.opsAccess !== 'object' || options.opsAccess === null)) {
    throw new InvalidOptionError('opsAccess', options.opsAccess, 'an object of operation: "public" | "user" | "admin"');
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
    keysFile: options.keysFile,
    keys: options.keys,
    opsAccess: options.opsAccess as Partial<OpsAccess> | undefined,
    forwardAuthorization: options.forwardAuthorization,
    dashboardPrompts: options.dashboardPrompts === true,
    maxUpstreamGenerations: checkCount(
      'maxUpstreamGenerations',
      options.maxUpstreamGenerations ?? envCount('OLLAMA_NUM_PARALLEL', 1) ?? PROXY_DEFAULTS.maxUpstreamGenerations,
      0,
      100_000,
    ),
    maxUpstreamQueue: checkCount(
      'maxUpstreamQueue',
      options.maxUpstreamQueue ?? envCount('OLLAMA_MAX_QUEUE', 0) ?? PROXY_DEFAULTS.maxUpstreamQueue,
      0,
      1_000_000,
    ),
    bindModelDigest: options.bindModelDigest === true,
    modelDigestTtl: digestTtl,
  };
}
