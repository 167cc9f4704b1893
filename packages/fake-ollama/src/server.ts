import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Fault, FaultQueue } from './faults.js';
import { handleChat } from './handlers/chat.js';
import type { ModelCall, ServerSettings } from './handlers/context.js';
import { handleEmbed } from './handlers/embed.js';
import { handleGenerate } from './handlers/generate.js';
import { handleShow, tagsBody, versionBody } from './handlers/info.js';
import { HttpError, nowNs, parseJsonObject, readBody, sendError, sendJson, sendText } from './http.js';
import { ModelCatalog } from './models.js';
import { checkLatency, checkTokensPerSecond, type FakeOllamaOptions, resolveOptions } from './options.js';

/** A running fake Ollama server. */
export interface FakeOllamaServer {
  /** Base URL, e.g. "http://127.0.0.1:43121". */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Requests served per route path, e.g. counts["/api/generate"]. */
  readonly counts: Record<string, number>;
  /** Total requests to generate+chat+embed (what reached "the model"), faulted ones included. */
  modelCalls(): number;
  /** Log of received request bodies for model routes (route, body), newest last; the last 10 000 are kept. */
  readonly requests: Array<{ route: string; body: unknown }>;
  /** Zeroes `counts` and empties `requests`. */
  resetCounts(): void;
  /** Queues `fault` for the next `times` model calls (default 1; Infinity = until clearFaults()). */
  failNext(fault: Fault, times?: number): void;
  /** Drops every queued or persistent fault. */
  clearFaults(): void;
  /** Changes the delay before the first byte of model answers, in ms. */
  setLatency(ms: number): void;
  /** Changes the streaming pace; 0 or Infinity = no pacing. */
  setTokensPerSecond(tps: number): void;
  /** Closes the server and destroys open sockets (hanging requests too); idempotent. */
  close(): Promise<void>;
}

/** How many request bodies `requests` keeps. */
export const MAX_LOGGED_REQUESTS = 10_000;

type ModelHandler = (call: ModelCall) => Promise<void>;

const MODEL_ROUTES: Record<string, ModelHandler> = {
  '/api/generate': handleGenerate,
  '/api/chat': handleChat,
  '/api/embed': handleEmbed,
};

const ROUTE_METHODS: Record<string, readonly string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/version': ['GET', 'HEAD'],
  '/api/tags': ['GET', 'HEAD'],
  '/api/show': ['POST'],
  '/api/generate': ['POST'],
  '/api/chat': ['POST'],
  '/api/embed': ['POST'],
};

/** Starts a fake Ollama server and resolves once it is listening. */
export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllamaServer> {
  const resolved = resolveOptions(options);
  const settings: ServerSettings = {
    catalog: new ModelCatalog(resolved.models),
    latencyMs: resolved.latencyMs,
    tokensPerSecond: resolved.tokensPerSecond,
    answerTokens: resolved.answerTokens,
  };
  const faults = new FaultQueue();
  const counts: Record<string, number> = {};
  const requests: Array<{ route: string; body: unknown }> = [];
  const sockets = new Set<Socket>();
  const inFlight = new Set<AbortController>();

  const serveModel = async (route: string, handler: ModelHandler, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startNs = nowNs();
    const fault = faults.take();
    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      controller.abort();
      inFlight.delete(controller);
    });
    const text = await readBody(req);
    let logged: unknown = text === '' ? undefined : text;
    try {
      logged = JSON.parse(text);
    } catch {
      // keep the raw text in the log
    }
    requests.push({ route, body: logged });
    if (requests.length > MAX_LOGGED_REQUESTS) requests.splice(0, requests.length - MAX_LOGGED_REQUESTS);

    if (fault?.kind === 'reset') {
      const socket = req.socket as Socket & { resetAndDestroy?: () => Socket };
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') return; // answered by close() destroying the socket
    const typeName = route === '/api/generate' ? 'GenerateRequest' : route === '/api/chat' ? 'ChatRequest' : 'EmbedRequest';
    const body = parseJsonObject(text, typeName);
    await handler({ req, res, body, fault, settings, signal: controller.signal, startNs, readyNs: nowNs() });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const method = req.method ?? 'GET';
    counts[path] = (counts[path] ?? 0) + 1;
    const allowed = ROUTE_METHODS[path];
    if (!allowed) {
      sendText(res, 404, '404 page not found');
      return;
    }
    if (!allowed.includes(method)) {
      sendText(res, 405, '405 method not allowed', method === 'HEAD', { Allow: allowed.join(', ') });
      return;
    }
    const head = method === 'HEAD';
    const model = MODEL_ROUTES[path];
    if (model) return serveModel(path, model, req, res);
    switch (path) {
      case '/':
        sendText(res, 200, 'Ollama is running', head);
        return;
      case '/api/version':
        return sendMaybeHead(res, versionBody(), head);
      case '/api/tags':
        return sendMaybeHead(res, tagsBody(settings.catalog), head);
      case '/api/show':
        handleShow(settings.catalog, parseJsonObject(await readBody(req), 'ShowRequest'), res);
        return;
    }
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendError(res, err.status, err.message);
      else if (!res.headersSent) sendError(res, 500, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
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
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  const url = `http://${hostForUrl}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    counts,
    requests,
    modelCalls: () => Object.keys(MODEL_ROUTES).reduce((n, r) => n + (counts[r] ?? 0), 0),
    resetCounts: () => {
      for (const key of Object.keys(counts)) delete counts[key];
      requests.length = 0;
    },
    failNext: (fault, times = 1) => faults.push(fault, times),
    clearFaults: () => faults.clear(),
    setLatency: (ms) => {
      settings.latencyMs = checkLatency(ms);
    },
    setTokensPerSecond: (tps) => {
      settings.tokensPerSecond = checkTokensPerSecond(tps);
    },
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
}

function sendMaybeHead(res: ServerResponse, body: unknown, head: boolean): void {
  if (!head) {
    sendJson(res, 200, body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end();
}
