/**
 * The request handler: routing, namespaces and controls, browser origins, the body limit, the hook
 * the cache engine plugs into, the pass-through, one log line and the counters per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AccessControl, tenantNamespace } from './access.js';
import { modelOfBody, promptOfBody } from './activity.js';
import { BodyReader, type BodySink, ClientGoneError } from './body.js';
import type { ProxyCache } from './cache.js';
import { DEFAULT_CONTROLS, NAMESPACE_HEADER, parseControls, type RequestControls, resolveNamespace, splitNamespacePath, TTL_HEADER } from './controls.js';
import type { CacheHeaderStatus, ProxyCounters } from './counters.js';
import { BodyTooLargeError, InvalidControlError, RateLimitedError, UpstreamBusyError } from './errors.js';
import { IdleBodies, type WatchedBody } from './idle-bodies.js';
import { keyPrefixOf } from './key-prefix.js';
import type { Principal } from './keys.js';
import { lingerOnClose } from './linger.js';
import type { ProxyLogger } from './logger.js';
import { handleOps, type OpsContext, operationOf } from './ops.js';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_SECONDS, isSameOrigin, type OriginPolicy } from './origin.js';
import { type RequestLineWriter, requestLineWriter } from './request-line.js';
import { sendEmpty, sendError } from './respond.js';
import { type CachedRoute, classify, isGenerationPath, PASSTHROUGH, PASSTHROUGH_OPENAI, pathnameOf, type Route } from './routes.js';
import { type TurnWrite, TurnWrites } from './turn-writes.js';
import type { ForwardTarget, Upstream, UpstreamCall } from './upstream.js';

/** What the cache engine gets for each POST on a cached route. */
export interface CachedRouteRequest {
  /** The route: its endpoint (generate, chat, embed, embeddings, openai-chat...) and API flavour. */
  readonly route: CachedRoute;
  /** The request body exactly as received (the shell never parses it). */
  readonly body: Buffer;
  /** The per-request controls (Cache-Control, X-TinyLLM-TTL). */
  readonly controls: RequestControls;
  /** The namespace: X-TinyLLM-Namespace or the /ns/<name>/ prefix, undefined for none; with API keys, the key's tenant (`tenant`, or `tenant:name` when the request names one). */
  readonly namespace: string | undefined;
  /** Who sent the request (its key's tenant and role); undefined when the proxy has no API keys. */
  readonly principal: Principal | undefined;
  /** Path and query to request from Ollama (the /ns/ prefix removed). */
  readonly path: string;
  /** The client's request (headers; the body has been read into `body`). */
  readonly req: IncomingMessage;
  /** The client's response: the engine writes the answer here (CORS headers are already set on it). */
  readonly res: ServerResponse;
  /** The proxy's logger (pino-compatible); never log bodies, prompts or answers. */
  readonly logger: ProxyLogger;
  /** The proxy's counters (plain numbers). */
  readonly counters: ProxyCounters;
  /** The upstream Ollama (its undici pool and URL). */
  readonly upstream: Upstream;
  /** Records how the cache answered (the X-Cache value and the key) for the request's log line and metrics; writes no header. */
  setCacheResult(status: CacheHeaderStatus, key?: string): void;
  /** Records the request's model as the engine read it (else the dashboard's activity reads it from the body). */
  setModel(model: string): void;
  /** Sends the request to Ollama with `body` (default: the body as received) and streams the answer back, within the generation bound (a 503 when it is full); resolves when it has ended or failed, never rejects. */
  passThrough(body?: Buffer): Promise<void>;
  /** Answers an error in the route's shape: Ollama's `{"error": ...}`, or OpenAI's on /v1 (with extra response headers, e.g. Retry-After). */
  sendError(status: number, message: string, headers?: Record<string, string>): void;
  /** Runs `write` at the end of this event-loop turn, with the turn's other answers (see turn-writes.ts): how an answer ready at once is best written under load. Skipped when the client has gone by then; a throw is answered as a throw from the hook. */
  writeAtTurnEnd(write: () => void): void;
}

/** The cache engine's entry point: answers one POST on a cached route. */
export type CachedRouteHandler = (request: CachedRouteRequest) => Promise<void> | void;

/** The hook's default until an engine is plugged in: Ollama answers, nothing is cached (X-Cache: BYPASS). */
export const passThroughCachedRoute: CachedRouteHandler = (request) => {
  request.res.setHeader('X-Cache', 'BYPASS');
  request.setCacheResult('BYPASS');
  return request.passThrough();
};

/** Settings of the handler, every default resolved (see ProxyOptions). */
export interface HandlerSettings {
  upstream: Upstream;
  counters: ProxyCounters;
  logger: ProxyLogger;
  origins: OriginPolicy;
  cachedRoutes: CachedRouteHandler;
  bodyLimitBytes: number;
  requestIdleTimeoutMs: number;
  ops: OpsContext;
  cache: ProxyCache | undefined;
  access: AccessControl;
}

/** One request and its answer: what the hook sees, and what the log line and counters read when it ends. */
class Exchange implements ForwardTarget, WatchedBody, BodySink, TurnWrite {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly #handler: ProxyHandler;
  readonly #startedAt = performance.now();
  path: string;
  route: Route;
  namespace: string | undefined = undefined;
  /** The namespace the request named (header or /ns/ prefix), before a tenant's is put in front. */
  requestedNamespace: string | undefined = undefined;
  principal: Principal | undefined = undefined;
  controls: RequestControls = DEFAULT_CONTROLS;
  body: Buffer = EMPTY_BODY;
  bytesIn = 0;
  cacheStatus: CacheHeaderStatus | undefined = undefined;
  cacheKey: string | undefined = undefined;
  model: string | undefined = undefined;
  upstreamCall: UpstreamCall | undefined = undefined;
  upstreamStatus: number | undefined = undefined;
  bodyPrev: WatchedBody | undefined = undefined;
  bodyNext: WatchedBody | undefined = undefined;
  bodyWatched = false;
  bodyBytes = -1;
  bodyQuietSince = 0;
  /** The pathname of `path` (no query), for routing and the log line. */
  pathname = '/';
  /** The body being read (cached routes), until it is complete. */
  bodyReader: BodyReader | undefined = undefined;
  /** The answer waiting for the end of the turn (writeAtTurnEnd). */
  #turnWrite: (() => void) | undefined = undefined;
  readonly #bytesWrittenBefore: number;
  // Kept: Node detaches req.socket and res.socket once the connection is gone.
  readonly #socket: IncomingMessage['socket'];

  constructor(handler: ProxyHandler, req: IncomingMessage, res: ServerResponse) {
    this.#handler = handler;
    this.req = req;
    this.res = res;
    this.path = req.url ?? '/';
    this.route = defaultRoute(this.path);
    this.#socket = req.socket;
    this.#bytesWrittenBefore = req.socket.bytesWritten;
  }

  get api(): Route['api'] {
    return this.route.api;
  }

  get logger(): ProxyLogger {
    return this.#handler.logger;
  }

  get counters(): ProxyCounters {
    return this.#handler.counters;
  }

  get upstream(): Upstream {
    return this.#handler.upstream;
  }

  get access(): AccessControl {
    return this.#handler.access;
  }

  setCacheResult(status: CacheHeaderStatus, key?: string): void {
    this.cacheStatus = status;
    if (key !== undefined) this.cacheKey = key;
  }

  setModel(model: string): void {
    this.model = model;
  }

  passThrough(body?: Buffer): Promise<void> {
    const sent = body ?? this.body;
    // Every cached route is a model route: it takes a slot of the generation bound.
    return this.#handler.withSlot(this, () => this.#handler.upstream.forward(this, sent));
  }

  sendError(status: number, message: string, headers?: Record<string, string>): void {
    sendError(this.res, status, message, this.route.api, headers);
  }

  writeAtTurnEnd(write: () => void): void {
    const earlier = this.#turnWrite;
    if (earlier === undefined) {
      this.#turnWrite = write;
      this.#handler.turnWrites.add(this);
      return;
    }
    // A second write in the same turn runs after the first, never instead of it.
    this.#turnWrite = () => {
      earlier();
      write();
    };
  }

  writeTurn(): void {
    const write = this.#turnWrite;
    this.#turnWrite = undefined;
    if (write === undefined || this.res.destroyed) return;
    try {
      write();
    } catch (error) {
      this.#handler.writeFailed(this, error);
    }
  }

  onBody(body: Buffer): void {
    this.bodyReader = undefined;
    this.#handler.bodyRead(this, body);
  }

  onBodyError(error: Error): void {
    this.bodyReader = undefined;
    this.#handler.bodyFailed(this, error);
  }

  /** Called once, when the response closes (finished or cut): counters, the upstream abort, the log line. */
  finish(): void {
    const handler = this.#handler;
    const counters = handler.counters;
    const res = this.res;
    const aborted = !res.writableFinished;
    if (aborted) {
      counters.clientAborts++;
      this.upstreamCall?.abort();
      this.bodyReader?.abandon();
    }
    counters.countRequest(this.route.index, this.cacheStatus);
    if (this.principal !== undefined) counters.countTenantRequest(this.principal.tenant, this.cacheStatus);
    const ms = Math.round((performance.now() - this.#startedAt) * 100) / 100;
    const key = this.cacheKey === undefined ? undefined : keyPrefixOf(this.cacheKey);
    if (this.route.kind === 'cached') {
      const activity = counters.activity;
      activity.record({
        at: Date.now(),
        route: this.route.id,
        cache: this.cacheStatus ?? 'NONE',
        status: res.statusCode,
        ms,
        model: this.model ?? modelOfBody(this.body),
        key: key ?? null,
        tenant: this.principal?.tenant ?? null,
        prompt: activity.keepPrompts ? promptOfBody(this.body) : null,
      });
    }
    if (handler.logRequests) {
      handler.writeRequestLine({
        method: this.req.method,
        path: this.pathname,
        status: res.statusCode,
        cache: this.cacheStatus,
        key,
        ns: this.namespace,
        tenant: this.principal?.tenant,
        ms,
        bytesIn: this.bytesIn,
        bytesOut: this.#socket.bytesWritten - this.#bytesWrittenBefore,
        aborted: aborted || undefined,
      });
    }
    handler.exchangeDone();
  }
}

const EMPTY_BODY = Buffer.alloc(0);

/** The route of a request before it is classified (for errors answered earlier): /v1/ paths get OpenAI's error shape, even behind a /ns/ prefix. */
function defaultRoute(path: string): Route {
  let rest = path;
  if (rest.startsWith('/ns/')) {
    const slash = rest.indexOf('/', 4);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  return rest.startsWith('/v1/') ? PASSTHROUGH_OPENAI : PASSTHROUGH;
}

function finishExchange(exchange: Exchange): void {
  try {
    exchange.finish();
  } catch (error) {
    // An event listener that throws would end the process: bookkeeping must never do that.
    exchange.logger.error({ err: error }, 'request bookkeeping failed');
  }
}

/** True when the request carries a body (a Content-Length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** The request handler of one proxy: mount `handle` on any node:http server. */
export class ProxyHandler {
  /** The upstream Ollama. */
  readonly upstream: Upstream;
  /** The proxy's counters. */
  readonly counters: ProxyCounters;
  /** The proxy's logger. */
  readonly logger: ProxyLogger;
  /** True when the logger writes info lines (one per request). */
  readonly logRequests: boolean;
  /** Writes a request's log line (see requestLineWriter). */
  readonly writeRequestLine: RequestLineWriter;
  /** The answers waiting for the end of the turn (see turn-writes.ts). */
  readonly turnWrites = new TurnWrites();
  /** API keys, tenants and the access levels of the operations. */
  readonly access: AccessControl;
  readonly #settings: HandlerSettings;
  readonly #idleBodies: IdleBodies;
  #closing = false;
  #drainWaiters: Array<() => void> = [];

  constructor(settings: HandlerSettings) {
    this.#settings = settings;
    this.upstream = settings.upstream;
    this.counters = settings.counters;
    this.logger = settings.logger;
    this.access = settings.access;
    this.logRequests = settings.logger.isLevelEnabled === undefined || settings.logger.isLevelEnabled('info');
    this.writeRequestLine = requestLineWriter(settings.logger);
    this.#idleBodies = new IdleBodies(settings.requestIdleTimeoutMs);
    this.handle = this.handle.bind(this);
  }

  /** True once close has begun: answers carry Connection: close and readiness says 503. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Handles one request (a node:http 'request' listener). Never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.counters.inFlight++;
    const exchange = new Exchange(this, req, res);
    // A closure rather than a property on res: adding one would change the hidden class of every
    // ServerResponse and slow Node's own code on them. 'close' is emitted once.
    res.on('close', () => finishExchange(exchange));
    if (this.#closing) res.shouldKeepAlive = false;
    try {
      this.#route(exchange);
    } catch (error) {
      this.#fail(exchange, error);
    }
  }

  #route(exchange: Exchange): void {
    const req = exchange.req;
    if (exchange.path.charCodeAt(0) !== 47 /* / */) exchange.path = originForm(exchange.path);
    let pathNamespace: string | undefined;
    if (exchange.path.startsWith('/ns/')) {
      const split = splitNamespacePath(exchange.path);
      exchange.path = split.path;
      pathNamespace = split.namespace;
    }
    exchange.pathname = pathnameOf(exchange.path);
    const route = classify(req.method ?? 'GET', exchange.pathname);
    exchange.route = route;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#admitOrigin(exchange, origin)) return;
    if (this.access.enabled && !this.#admitKey(exchange)) return;
    switch (route.kind) {
      case 'passthrough': {
        const body = hasBody(req);
        const forward = (): Promise<void> => {
          if (body) {
            const length = req.headers['content-length'];
            if (length !== undefined) exchange.bytesIn = Number(length);
            this.#idleBodies.watch(exchange);
            req.once('end', () => this.#idleBodies.done(exchange));
          }
          return this.upstream.forward(exchange, body ? req : null);
        };
        // A model route that is not cached (/v1/responses, an encoded path...) still runs on the GPU.
        if (isGenerationPath(req.method, exchange.pathname)) void this.withSlot(exchange, forward);
        else void forward();
        return;
      }
      case 'cached':
        this.#resolveNamespace(exchange, pathNamespace);
        exchange.controls = parseControls(header(req, 'cache-control'), header(req, TTL_HEADER));
        this.#idleBodies.watch(exchange);
        exchange.bodyReader = new BodyReader(req, this.#settings.bodyLimitBytes, exchange);
        exchange.bodyReader.start();
        return;
      case 'ops':
        this.#resolveNamespace(exchange, pathNamespace);
        handleOps(exchange, this.#settings.ops, this).catch((error: unknown) => this.#fail(exchange, error));
        return;
    }
  }

  // The request's namespace: the one it names, inside its key's tenant when the proxy has keys (the
  // names it can give contain no ':', so it can never name another tenant's).
  #resolveNamespace(exchange: Exchange, pathNamespace: string | undefined): void {
    const requested = resolveNamespace(header(exchange.req, NAMESPACE_HEADER), pathNamespace);
    exchange.requestedNamespace = requested;
    const principal = exchange.principal;
    exchange.namespace = principal === undefined ? requested : tenantNamespace(principal.tenant, requested);
  }

  /**
   * With API keys: the request's key decides who it is (401 without a valid one, except for public
   * operations), then its tenant's rate limit (429). Returns false when the request has been answered.
   */
  #admitKey(exchange: Exchange): boolean {
    const { req, route } = exchange;
    const principal = this.access.principalOf(header(req, 'authorization'));
    if (principal === undefined) {
      if (route.kind === 'ops' && this.access.isPublic(operationOf(route))) return true;
      this.counters.unauthorized++;
      const message =
        req.headers.authorization === undefined
          ? 'missing API key: this proxy needs one, sent as Authorization: Bearer <key>'
          : 'invalid API key: send a key of this proxy as Authorization: Bearer <key>';
      this.#refuse(exchange, 401, message, { 'WWW-Authenticate': 'Bearer realm="tinyllm"' });
      return false;
    }
    exchange.principal = principal;
    const retryAfter = this.access.rateLimiter.take(principal.tenant);
    if (retryAfter > 0) {
      this.counters.countRateLimited(principal.tenant);
      const limit = this.access.rateLimiter.limitOf(principal.tenant) ?? 0;
      this.#refuse(exchange, 429, new RateLimitedError(principal.tenant, limit, retryAfter).message, { 'Retry-After': String(retryAfter) });
      return false;
    }
    return true;
  }

  // Answers a request before its body was read: the connection closes after the answer rather than
  // read (and throw away) a body nobody will use.
  #refuse(exchange: Exchange, status: number, message: string, headers: Record<string, string>): void {
    const unread = !exchange.req.complete && hasBody(exchange.req);
    if (unread) lingerOnClose(exchange.req);
    sendError(exchange.res, status, message, exchange.api, unread ? { ...headers, Connection: 'close' } : headers);
  }

  /**
   * Runs `call` (a request to one of Ollama's model routes) within the generation bound: at once
   * when a slot is free, after waiting in the queue otherwise, or answers 503 with Retry-After when
   * the queue is full too. A client that leaves while waiting gives up its place.
   */
  withSlot(exchange: Exchange, call: () => Promise<void>): Promise<void> {
    const gate = this.upstream.gate;
    const now = gate.tryAcquire();
    if (now !== undefined) return gate.maxActive === 0 ? call() : call().finally(now);
    const { res } = exchange;
    const controller = new AbortController();
    const onClose = (): void => controller.abort(new ClientGoneError());
    res.once('close', onClose);
    return gate.acquire(controller.signal).then(
      (release) => {
        res.off('close', onClose);
        if (res.destroyed) {
          release();
          return;
        }
        return call().finally(release);
      },
      (error: unknown) => {
        res.off('close', onClose);
        if (!UpstreamBusyError.isInstance(error)) return;
        this.counters.upstreamBusy++;
        this.#refuse(exchange, 503, error.message, { 'Retry-After': String(error.retryAfterSeconds) });
      },
    );
  }

  /** A cached route's body is complete: the hook runs. */
  bodyRead(exchange: Exchange, body: Buffer): void {
    this.#idleBodies.done(exchange);
    this.#runCachedRoute(exchange, body);
  }

  /** An answer written at the end of the turn threw: answered as a throw from the hook. */
  writeFailed(exchange: Exchange, error: unknown): void {
    this.#fail(exchange, error);
  }

  /** A cached route's body was refused (413) or abandoned. */
  bodyFailed(exchange: Exchange, error: Error): void {
    this.#idleBodies.done(exchange);
    this.#fail(exchange, error);
  }

  #runCachedRoute(exchange: Exchange, body: Buffer): void {
    exchange.body = body;
    exchange.bytesIn = body.length;
    let result: Promise<void> | void;
    try {
      // The route is a cached one here (classify), which is all CachedRouteRequest adds to Exchange.
      result = this.#settings.cachedRoutes(exchange as Exchange & { route: CachedRoute });
    } catch (error) {
      this.#fail(exchange, error);
      return;
    }
    if (result !== undefined) result.catch((error: unknown) => this.#fail(exchange, error));
  }

  /**
   * Browser requests, decided by the proxy's own allow-list (Ollama's rules by default): a foreign
   * Origin gets 403 with an empty body, as from Ollama; an allowed preflight gets 204 with the CORS
   * headers; an allowed request goes on with Access-Control-Allow-Origin set. Origin itself is never
   * forwarded, so Ollama sees a plain local client. Returns false when the request has been answered.
   */
  #admitOrigin(exchange: Exchange, origin: string): boolean {
    const { req, res } = exchange;
    if (isSameOrigin(origin, req.headers.host)) return true;
    const policy = this.#settings.origins;
    if (!policy.allows(origin)) {
      sendEmpty(res, 403);
      return false;
    }
    const allowOrigin = policy.allowAll ? '*' : origin;
    if (req.method === 'OPTIONS') {
      sendEmpty(res, 204, {
        'Access-Control-Allow-Origin': allowOrigin,
        'Access-Control-Allow-Methods': CORS_ALLOW_METHODS,
        'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
        'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
        Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      });
      return false;
    }
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
    res.setHeader('Vary', 'Origin');
    return true;
  }

  /** Answers a failure that reached the handler: a bad control (400), a body over the limit (413), or a bug (500). */
  #fail(exchange: Exchange, error: unknown): void {
    const { res } = exchange;
    if (error instanceof ClientGoneError || res.destroyed) return;
    if (InvalidControlError.isInstance(error)) {
      this.counters.badControls++;
      sendError(res, 400, error.message, exchange.api);
      return;
    }
    if (BodyTooLargeError.isInstance(error)) {
      this.counters.bodyTooLarge++;
      // The rest of the body is never parsed: close the connection after the answer, draining
      // what the client still sends so that the 413 reaches it (see lingerOnClose).
      lingerOnClose(exchange.req);
      sendError(res, 413, error.message, exchange.api, { Connection: 'close' });
      return;
    }
    this.logger.error({ err: error, method: exchange.req.method, path: exchange.pathname }, 'request failed inside the proxy');
    if (res.headersSent) res.destroy(error instanceof Error ? error : undefined);
    else sendError(res, 500, `internal proxy error: ${error instanceof Error ? error.message : String(error)}`, exchange.api);
  }

  /** Called by each exchange when its response has closed. */
  exchangeDone(): void {
    this.counters.inFlight--;
    if (this.counters.inFlight === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Starts closing: later answers carry Connection: close, readiness answers 503. */
  beginClose(): void {
    this.#closing = true;
  }

  /** Stops the handler's own timer (the slow-body watch); called once the proxy has closed. */
  dispose(): void {
    this.#idleBodies.close();
  }

  /** Resolves true once no request is in flight, or false when graceMs passes first. */
  drain(graceMs: number): Promise<boolean> {
    if (this.counters.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), graceMs);
      timer.unref();
      this.#drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * The origin-form (path and query) of a request target that is not one: an absolute-form target
 * (`http://host/api/tags`, which HTTP/1.1 servers must accept) is routed by its path, as Ollama
 * routes it, so it can neither slip past the routing (cache, bound, keys) nor reach another host.
 * Anything else (`*`, `api/tags`) is a 400.
 */
function originForm(target: string): string {
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.pathname}${url.search}`;
    } catch {
      // not a URL: refused below
    }
  }
  throw new InvalidControlError('request target', target.length > 100 ? `${target.slice(0, 100)}...` : target, 'expected a path such as /api/tags');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
