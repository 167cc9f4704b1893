import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type AdminApi, handleAdmin } from './admin.js';
import { defaultFaultMessage, type Fault, FaultQueue, MODEL_ROUTES } from './faults.js';
import { applyGuards, isLoopbackAddress, OriginPolicy, originsFromEnv } from './guards.js';
import { handleChat } from './handlers/chat.js';
import type { ModelCall, ServerSettings } from './handlers/context.js';
import { handleEmbed, handleEmbeddings } from './handlers/embed.js';
import { handleGenerate } from './handlers/generate.js';
import { handleShow, psBody, showModel, tagsBody, versionBody } from './handlers/info.js';
import { handleCopy, handleCreate, handleDelete, handleHeadBlob, handlePostBlob, handlePull, handlePush, type ManageCall } from './handlers/manage.js';
import { type AnswerWriter, NativeWriter } from './handlers/writer.js';
import { goJson, HttpError, nowNs, parseJsonObject, readBody, sendBody, sendError, sendJson, sendText, sleep } from './http.js';
import { ModelCatalog, type ModelSpec } from './models.js';
import { fromChatCompletionRequest, fromCompletionRequest, fromEmbeddingRequest, TranslateError } from './openai/translate.js';
import { ChatWriter, CompleteWriter, EmbedWriter, openAIError, sendTranslatorError, toModel, toModelList } from './openai/writers.js';
import { checkLatency, checkPullInterval, checkTokensPerSecond, type FakeOllamaOptions, resolveOptions } from './options.js';

/** A running fake Ollama server. */
export interface FakeOllamaServer {
  /** Base URL, e.g. "http://127.0.0.1:43121". */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Requests per request path, e.g. counts["/api/generate"] (every request, refused and faulted ones included; admin routes excluded). */
  readonly counts: Record<string, number>;
  /** Requests to the model routes (native generate, chat, embed, embeddings and the /v1 chat, completions and embeddings), faulted ones included. */
  modelCalls(): number;
  /** Log of received request bodies for model routes (route, body), newest last; the last 10 000 are kept. */
  readonly requests: Array<{ route: string; body: unknown }>;
  /** Model-route requests being answered right now (from arrival until their response closes). */
  modelCallsInFlight(): number;
  /** The most model-route requests answered at once since start or the last resetCounts(). */
  peakModelCallsInFlight(): number;
  /** Zeroes `counts`, empties `requests` and restarts the peak of model calls in flight from those in flight now. */
  resetCounts(): void;
  /** Queues `fault` for the next `times` requests it applies to (default 1; Infinity = until clearFaults()). */
  failNext(fault: Fault, times?: number): void;
  /** Drops every queued or persistent fault. */
  clearFaults(): void;
  /** Changes the delay before the first byte of model answers, in ms. */
  setLatency(ms: number): void;
  /** Changes the streaming pace; 0 or Infinity = no pacing. */
  setTokensPerSecond(tps: number): void;
  /** Changes the delay between pull/push/create progress lines, in ms. */
  setPullInterval(ms: number): void;
  /** Sets a model's digest (a random new one when none is given), as a re-pull of a changed model would; returns the new digest. Answers change with it. */
  setModelDigest(model: string, digest?: string): string;
  /** Adds (or replaces) a model, as a pull would. */
  addModel(model: string | ModelSpec): void;
  /** Removes a model, as DELETE /api/delete would; false if it was not there. */
  removeModel(model: string): boolean;
  /** Closes the server and destroys open sockets (hanging requests too); idempotent. */
  close(): Promise<void>;
}

/** How many request bodies `requests` keeps. */
export const MAX_LOGGED_REQUESTS = 10_000;

type ModelHandler = (call: ModelCall) => Promise<void>;

const NATIVE_MODEL_ROUTES: Record<string, { handler: ModelHandler; typeName: string }> = {
  '/api/generate': { handler: handleGenerate, typeName: 'GenerateRequest' },
  '/api/chat': { handler: handleChat, typeName: 'ChatRequest' },
  '/api/embed': { handler: handleEmbed, typeName: 'EmbedRequest' },
  '/api/embeddings': { handler: handleEmbeddings, typeName: 'EmbeddingRequest' },
};

// Methods in gin's tree order (HEAD, GET, POST, DELETE: the order Ollama first registers them),
// which is the order of the Allow header of a 405 (gin.go:650-666).
const ROUTE_METHODS: Record<string, readonly string[]> = {
  '/': ['HEAD', 'GET'],
  '/api/version': ['HEAD', 'GET'],
  '/api/tags': ['HEAD', 'GET'],
  '/api/ps': ['GET'],
  '/api/show': ['POST'],
  '/api/pull': ['POST'],
  '/api/push': ['POST'],
  '/api/create': ['POST'],
  '/api/copy': ['POST'],
  '/api/delete': ['DELETE'],
  '/api/generate': ['POST'],
  '/api/chat': ['POST'],
  '/api/embed': ['POST'],
  '/api/embeddings': ['POST'],
  '/v1/chat/completions': ['POST'],
  '/v1/completions': ['POST'],
  '/v1/embeddings': ['POST'],
  '/v1/models': ['GET'],
};

/** The methods a path is routed for (parameterised routes included), or undefined for an unknown path. */
function methodsFor(path: string): readonly string[] | undefined {
  const fixed = ROUTE_METHODS[path];
  if (fixed) return fixed;
  if (/^\/api\/blobs\/[^/]+$/.test(path)) return ['HEAD', 'POST'];
  if (/^\/v1\/models\/[^/]+$/.test(path)) return ['GET'];
  return undefined;
}

/** Go's path.Clean for a request path, keeping a trailing slash (net/http ServeMux cleanPath). */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

function redirect(res: ServerResponse, method: string, status: number, location: string): void {
  const headers: Record<string, string> = { Location: location };
  if (method === 'GET' || method === 'HEAD') headers['Content-Type'] = 'text/html; charset=utf-8';
  const body = method === 'GET' ? `<a href="${location}">${status === 301 ? 'Moved Permanently' : 'Temporary Redirect'}</a>.\n\n` : '';
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts a fake Ollama server and resolves once it is listening. */
export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllamaServer> {
  const resolved = resolveOptions(options);
  const policy = new OriginPolicy(resolved.origins ?? originsFromEnv(process.env.OLLAMA_ORIGINS));
  const settings: ServerSettings = {
    catalog: new ModelCatalog(resolved.models),
    latencyMs: resolved.latencyMs,
    tokensPerSecond: resolved.tokensPerSecond,
    answerTokens: resolved.answerTokens,
    pullIntervalMs: resolved.pullIntervalMs,
    pullSteps: resolved.pullSteps,
    version: resolved.version,
    loaded: new Map(),
  };
  const faults = new FaultQueue();
  const counts: Record<string, number> = {};
  const requests: Array<{ route: string; body: unknown }> = [];
  const blobs = new Map<string, number>();
  const sockets = new Set<Socket>();
  const inFlight = new Set<AbortController>();
  let hostGuard = false;
  let modelInFlight = 0;
  let modelPeak = 0;

  const track = (res: ServerResponse): AbortSignal => {
    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      controller.abort();
      inFlight.delete(controller);
    });
    return controller.signal;
  };

  // reset and hang strike before anything is validated.
  const strikesFirst = (fault: Fault | undefined, req: IncomingMessage): boolean => {
    if (fault?.kind === 'reset') {
      const socket = req.socket as Socket & { resetAndDestroy?: () => Socket };
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return true;
    }
    return fault?.kind === 'hang'; // answered by close() destroying the socket
  };

  const serveModel = async (path: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startNs = nowNs();
    modelInFlight++;
    if (modelInFlight > modelPeak) modelPeak = modelInFlight;
    res.once('close', () => {
      modelInFlight--;
    });
    const fault = faults.take(path);
    const signal = track(res);
    const text = await readBody(req);
    let logged: unknown = text === '' ? undefined : text;
    try {
      logged = JSON.parse(text);
    } catch {
      // keep the raw text in the log
    }
    requests.push({ route: path, body: logged });
    if (requests.length > MAX_LOGGED_REQUESTS) requests.splice(0, requests.length - MAX_LOGGED_REQUESTS);
    if (strikesFirst(fault, req)) return;

    let writer: AnswerWriter;
    let body: Record<string, unknown>;
    let handler: ModelHandler;
    const native = NATIVE_MODEL_ROUTES[path];
    if (native) {
      writer = new NativeWriter(res);
      body = parseJsonObject(text, native.typeName);
      handler = native.handler;
    } else {
      try {
        const raw = text.trim() === '' ? undefined : parseJsonObject(text, path === '/v1/completions' ? 'CompletionRequest' : 'ChatCompletionRequest');
        // An empty body reaches these routes' decoder as io.EOF, answered as the raw "EOF".
        if (!raw) throw new TranslateError('EOF');
        if (path === '/v1/chat/completions') {
          const t = fromChatCompletionRequest(raw);
          writer = new ChatWriter(res, t.stream, `chatcmpl-${Math.floor(Math.random() * 999)}`, t.includeUsage);
          body = t.native;
          handler = handleChat;
        } else if (path === '/v1/completions') {
          const t = fromCompletionRequest(raw);
          writer = new CompleteWriter(res, t.stream, `cmpl-${Math.floor(Math.random() * 999)}`, t.includeUsage);
          body = t.native;
          handler = handleGenerate;
        } else {
          const t = fromEmbeddingRequest(raw);
          writer = new EmbedWriter(res, String(t.native.model), t.encodingFormat);
          body = t.native;
          handler = handleEmbed;
        }
      } catch (err) {
        if (err instanceof TranslateError || err instanceof HttpError) {
          sendTranslatorError(res, err instanceof HttpError ? err.status : err.status, err.message);
          return;
        }
        throw err;
      }
    }
    try {
      await handler({ req, res, writer, body, fault, settings, signal, startNs, readyNs: nowNs() });
    } catch (err) {
      if (err instanceof HttpError) writer.fail(err.status, err.message);
      else throw err;
    }
  };

  const serveManage = async (path: string, req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): Promise<void> => {
    const signal = track(res);
    const typeName = path === '/api/delete' ? 'DeleteRequest' : path === '/api/copy' ? 'CopyRequest' : 'PullRequest';
    const body = parseJsonObject(await readBody(req), typeName);
    const call: ManageCall = { req, res, body, settings, fault, signal, blobs };
    if (path === '/api/pull') await handlePull(call);
    else if (path === '/api/push') await handlePush(call);
    else if (path === '/api/create') await handleCreate(call);
    else if (path === '/api/delete') handleDelete(call);
    else handleCopy(call);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Not new URL(): a path like //api/chat would be read as a host.
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt >= 0 ? target.slice(0, queryAt) : target;
    const url = { search: queryAt >= 0 ? target.slice(queryAt) : '' };
    const method = req.method ?? 'GET';
    if (rawPath.startsWith('/__fake/')) {
      await handleAdmin(admin, rawPath, method, req, res);
      return;
    }
    counts[rawPath] = (counts[rawPath] ?? 0) + 1;
    if (resolved.guards && applyGuards(req, res, policy, hostGuard)) return;

    const cleaned = cleanPath(rawPath);
    if (cleaned !== rawPath) {
      redirect(res, method, 301, `${cleaned}${url.search}`);
      return;
    }
    const allowed = methodsFor(rawPath);
    if (!allowed && rawPath.length > 1 && rawPath.endsWith('/')) {
      const bare = methodsFor(rawPath.slice(0, -1));
      if (bare?.includes(method)) {
        redirect(res, method, method === 'GET' ? 301 : 307, `${rawPath.slice(0, -1)}${url.search}`);
        return;
      }
    }
    if (!allowed) {
      sendText(res, 404, '404 page not found', false, {}, 'text/plain');
      return;
    }
    if (!allowed.includes(method)) {
      sendText(res, 405, '405 method not allowed', method === 'HEAD', { Allow: allowed.join(', ') }, 'text/plain');
      return;
    }
    if (MODEL_ROUTES.includes(rawPath)) return serveModel(rawPath, req, res);

    const head = method === 'HEAD';
    const fault = faults.take(rawPath);
    if (strikesFirst(fault, req)) return;
    const streamed = rawPath === '/api/pull' || rawPath === '/api/push' || rawPath === '/api/create';
    if (!streamed && fault?.kind === 'slow' && !(await sleep(fault.latencyMs, track(res)))) return;
    if (!streamed && fault?.kind === 'status') {
      sendError(res, fault.status, fault.message ?? defaultFaultMessage(fault.status));
      return;
    }
    switch (rawPath) {
      case '/':
        sendText(res, 200, 'Ollama is running', head);
        return;
      case '/api/version':
        sendJson(res, 200, versionBody(settings.version), head);
        return;
      case '/api/tags':
        sendJson(res, 200, tagsBody(settings.catalog), head);
        return;
      case '/api/ps':
        sendJson(res, 200, psBody(settings));
        return;
      case '/api/show':
        handleShow(settings.catalog, parseJsonObject(await readBody(req), 'ShowRequest'), res);
        return;
      case '/api/pull':
      case '/api/push':
      case '/api/create':
      case '/api/delete':
      case '/api/copy':
        return serveManage(rawPath, req, res, fault);
      case '/v1/models':
        sendBody(res, 200, 'application/json', `${goJson(toModelList(tagsBody(settings.catalog)))}\n`);
        return;
    }
    const digest = decodeURIComponent(rawPath.slice(rawPath.lastIndexOf('/') + 1));
    if (rawPath.startsWith('/api/blobs/')) {
      if (head) handleHeadBlob(res, digest, blobs);
      else await handlePostBlob(req, res, digest, blobs);
      return;
    }
    // GET /v1/models/:model runs /api/show with name=<param> (RetrieveMiddleware).
    try {
      sendBody(res, 200, 'application/json', `${goJson(toModel(showModel(settings.catalog, { name: digest }), digest))}\n`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      sendBody(res, err.status, 'application/json', `${goJson(openAIError(err.status, err.message))}\n`);
    }
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendError(res, err.status, err.message);
      else if (!res.headersSent) sendError(res, 500, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  // Go's http.Server sets no timeouts: idle connections stay open and slow uploads are not cut.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.maxConnections = Number.POSITIVE_INFINITY;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port: resolved.port, host: resolved.host, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : resolved.port;
  // Ollama checks Host only when its listener is a loopback address (allowedHostsMiddleware).
  hostGuard = typeof address === 'object' && address !== null && isLoopbackAddress(address.address);
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  const url = `http://${hostForUrl}:${port}`;
  let closing: Promise<void> | undefined;

  const handle: FakeOllamaServer = {
    url,
    port,
    counts,
    requests,
    modelCalls: () => MODEL_ROUTES.reduce((n, r) => n + (counts[r] ?? 0), 0),
    modelCallsInFlight: () => modelInFlight,
    peakModelCallsInFlight: () => modelPeak,
    resetCounts: () => {
      for (const key of Object.keys(counts)) delete counts[key];
      requests.length = 0;
      modelPeak = modelInFlight;
    },
    failNext: (fault, times = 1) => faults.push(fault, times),
    clearFaults: () => faults.clear(),
    setLatency: (ms) => {
      settings.latencyMs = checkLatency(ms);
    },
    setTokensPerSecond: (tps) => {
      settings.tokensPerSecond = checkTokensPerSecond(tps);
    },
    setPullInterval: (ms) => {
      settings.pullIntervalMs = checkPullInterval(ms);
    },
    setModelDigest: (model, digest) => settings.catalog.setDigest(model, digest),
    addModel: (model) => {
      settings.catalog.add(model);
    },
    removeModel: (model) => settings.catalog.remove(model),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of inFlight) c.abort();
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
  const admin: AdminApi = { server: handle, requests, settings };
  return handle;
}
