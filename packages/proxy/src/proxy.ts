/** Building a proxy: the request handler for an existing node:http server, or a listening server. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError } from '@tinyllm/cache-core';
import { CacheEngine, type OllamaResponseCache } from '@tinyllm/ollama-cached/engine';
import { AccessControl, type KeysSummary } from './access.js';
import type { ProxyCache } from './cache.js';
import { createCachedRoutes } from './cached/cached-route.js';
import { ProxyEngineUpstream } from './cached/engine-upstream.js';
import { ProxyCounters } from './counters.js';
import { keepFreedMemoryForReuse } from './freed-memory.js';
import { UpstreamGate } from './gate.js';
import { type CachedRouteHandler, ProxyHandler, passThroughCachedRoute } from './handler.js';
import type { KeysConfig } from './keys.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { checkMs, PROXY_DEFAULTS, type ProxyHandlerOptions, type ProxyServerOptions, type ResolvedHandlerOptions, resolveHandlerOptions } from './options.js';
import { createOriginPolicy, ollamaDefaultOrigins } from './origin.js';
import { Upstream } from './upstream.js';

/** A request handler with its parts, to mount on your own node:http server. */
export interface TinyllmProxyHandler {
  /** The 'request' listener: `createServer(proxy.handle)` or `server.on('request', proxy.handle)`. */
  readonly handle: ProxyHandler['handle'];
  /** The proxy's counters (plain numbers). */
  readonly counters: ProxyCounters;
  /** The metrics registry and scrape behind /tinyllm/metrics. */
  readonly metrics: ProxyMetrics;
  /** The upstream Ollama (URL and undici pool). */
  readonly upstream: Upstream;
  /** The request handler itself (closing, drain). */
  readonly handler: ProxyHandler;
  /** The bound on generations at Ollama (slots held, queue, refusals). */
  readonly gate: UpstreamGate;
  /**
   * Reads the keys again (`tinyllm serve` does on SIGHUP): the keys file, or `keys` when given. The
   * new keys are checked whole before they replace the old ones; a bad file rejects with
   * InvalidKeysFileError and the old keys stay in force.
   */
  reloadKeys(keys?: KeysConfig): Promise<KeysSummary>;
  /**
   * Stops the proxy: later answers carry Connection: close and readiness says 503; requests in
   * flight get graceMs to finish; then the upstream pool closes and, when closeCache is true, the
   * cache lets pending writes land and closes. Resolves true when every request finished in time.
   */
  close(options?: { graceMs?: number; closeCache?: boolean }): Promise<boolean>;
}

// The cache engine behind the cached routes: the same engine as CachedOllamaClient's, over HTTP.
function engineRoutes(cache: ProxyCache, upstream: Upstream, resolved: ResolvedHandlerOptions): CachedRouteHandler {
  if (typeof (cache as Partial<OllamaResponseCache>).resolve !== 'function') {
    throw new InvalidOptionError('cache', cache, 'a ResponseCache (e.g. ollamaResponseCache(backend) from @tinyllm/ollama-cached)');
  }
  return createCachedRoutes(
    new CacheEngine({
      upstream: new ProxyEngineUpstream(upstream),
      cache: cache as OllamaResponseCache,
      logger: resolved.logger,
      ...(resolved.bindModelDigest ? { bindModelDigest: true } : {}),
      ...(resolved.modelDigestTtl === undefined ? {} : { modelDigestTtl: resolved.modelDigestTtl }),
    }),
  );
}

/** Builds the proxy's request handler (no server): mount `handle` on any node:http server. */
export function createProxyHandler(options: ProxyHandlerOptions = {}): TinyllmProxyHandler {
  const resolved = resolveHandlerOptions(options);
  const access = new AccessControl({ keysFile: resolved.keysFile, keys: resolved.keys }, resolved.opsAccess);
  const counters = new ProxyCounters();
  counters.activity.keepPrompts = resolved.dashboardPrompts;
  const gate = new UpstreamGate(resolved.maxUpstreamGenerations, resolved.maxUpstreamQueue);
  const upstream = new Upstream({
    url: resolved.upstream,
    timeoutMs: resolved.upstreamTimeoutMs,
    connectTimeoutMs: resolved.upstreamConnectTimeoutMs,
    counters,
    // With keys, Authorization carries a key of the proxy's: it is not a credential for Ollama.
    forwardAuthorization: resolved.forwardAuthorization === undefined ? () => !access.enabled : () => resolved.forwardAuthorization as boolean,
    gate,
  });
  const metrics = createProxyMetrics({
    counters,
    cache: resolved.cache,
    processMetrics: resolved.processMetrics,
    cacheTimeoutMs: resolved.readyTimeoutMs,
    gate,
  });
  const cachedRoutes: CachedRouteHandler =
    resolved.cachedRoutes ?? (resolved.cache === undefined ? passThroughCachedRoute : engineRoutes(resolved.cache, upstream, resolved));
  const handler = new ProxyHandler({
    upstream,
    counters,
    logger: resolved.logger,
    origins: createOriginPolicy(resolved.allowedOrigins ?? ollamaDefaultOrigins()),
    cachedRoutes,
    bodyLimitBytes: resolved.bodyLimitBytes,
    requestIdleTimeoutMs: resolved.requestIdleTimeoutMs,
    cache: resolved.cache,
    access,
    ops: {
      cache: resolved.cache,
      cacheLocation: resolved.cacheLocation ?? resolved.cache?.backend.name ?? 'none',
      metrics,
      upstream,
      readyTimeoutMs: resolved.readyTimeoutMs,
      counters,
    },
  });
  let closing: Promise<boolean> | undefined;
  return {
    handle: handler.handle,
    counters,
    metrics,
    upstream,
    handler,
    gate,
    reloadKeys: (keys) => access.reload(keys),
    close(closeOptions = {}) {
      closing ??= (async () => {
        const graceMs = checkMs('graceMs', closeOptions.graceMs ?? PROXY_DEFAULTS.shutdownGraceMs, true);
        handler.beginClose();
        const drained = await handler.drain(graceMs);
        handler.dispose();
        await upstream.close(!drained);
        if (resolved.cache !== undefined && closeOptions.closeCache !== false) {
          try {
            await resolved.cache.flush();
          } finally {
            await resolved.cache.close();
          }
        }
        return drained;
      })();
      return closing;
    },
  };
}

/** A listening proxy. */
export interface RunningProxy extends TinyllmProxyHandler {
  /** The node:http server. */
  readonly server: Server;
  /** The address clients use, e.g. http://127.0.0.1:11435. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /**
   * Stops accepting connections, lets requests in flight finish (bounded by graceMs, default
   * shutdownGraceMs), cuts what remains, lets pending cache writes land and closes the cache.
   * Resolves true when every request finished within the grace period.
   */
  close(options?: { graceMs?: number; closeCache?: boolean }): Promise<boolean>;
}

/** Starts a proxy on a node:http server and resolves once it is listening. */
export async function startProxy(options: ProxyServerOptions = {}): Promise<RunningProxy> {
  const port = options.port ?? PROXY_DEFAULTS.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidOptionError('port', port, 'a port number between 0 and 65535');
  const host = options.host ?? PROXY_DEFAULTS.host;
  if (typeof host !== 'string' || host.trim() === '') throw new InvalidOptionError('host', host, 'an interface address such as 127.0.0.1');
  const headersTimeoutMs = checkMs('headersTimeoutMs', options.headersTimeoutMs ?? PROXY_DEFAULTS.headersTimeoutMs, false);
  const keepAliveTimeoutMs = checkMs('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? PROXY_DEFAULTS.keepAliveTimeoutMs, false);
  const shutdownGraceMs = checkMs('shutdownGraceMs', options.shutdownGraceMs ?? PROXY_DEFAULTS.shutdownGraceMs, true);
  const proxy = createProxyHandler(options);
  // Large bodies pass through in 64 KiB buffers: keep freed ones for reuse (see freed-memory.ts).
  keepFreedMemoryForReuse();
  const server = createServer(
    {
      // Slow clients: headers must arrive in time; a body that stalls is cut by the handler's idle
      // timer. Node's whole-request deadline is off: it would cut a large upload that is still moving.
      headersTimeout: headersTimeoutMs,
      // Node checks header deadlines on this interval (30 s by default), far too coarse for them.
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
      requestTimeout: 0,
      keepAliveTimeout: keepAliveTimeoutMs,
    },
    proxy.handle,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // A bad request pipelined behind one still being answered: an error answer written now would
    // land inside that answer. Let it finish, then close the connection. Never write into an answer
    // that has started (as Node's own handler takes care not to).
    const inProgress = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inProgress != null && !inProgress.writableFinished) {
      if (inProgress.req?.complete) {
        inProgress.once('close', () => socket.end());
        return;
      }
      if (inProgress.headersSent) {
        socket.destroy();
        return;
      }
    }
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      void proxy.close({ graceMs: 0, closeCache: false });
      reject(error);
    };
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<boolean> | undefined;
  return {
    ...proxy,
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close(closeOptions = {}) {
      closing ??= (async () => {
        server.close();
        server.closeIdleConnections();
        const drained = await proxy.close({ graceMs: closeOptions.graceMs ?? shutdownGraceMs, closeCache: closeOptions.closeCache ?? options.closeCache });
        server.closeAllConnections();
        return drained;
      })();
      return closing;
    },
  };
}
