import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeOllamaOptions, type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll } from 'vitest';
import { type ProxyServerOptions, type RunningProxy, startProxy } from '../src/index.js';

/** One HTTP exchange as the client saw it. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

/** What send() sends. */
export interface SendOptions {
  method?: string;
  /** Header object, or a flat [name, value, ...] list (to send several of one name, or a custom Host). */
  headers?: Record<string, string> | string[];
  body?: string | Buffer;
}

/** Sends one request with node:http (no fetch: it would set Origin/Host rules of its own) and reads the whole answer. */
export function send(base: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const url = new URL(base);
  let headers = options.headers;
  // node:http frames a body of GET/DELETE/OPTIONS only with an explicit Content-Length.
  if (options.body !== undefined && !Array.isArray(headers) && !Object.keys(headers ?? {}).some((h) => h.toLowerCase() === 'content-length')) {
    headers = { ...headers, 'Content-Length': String(Buffer.byteLength(options.body)) };
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Headers that belong to one connection or one moment (they legitimately differ between two answers). */
const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive']);

/** A reply's headers without the per-connection ones, for comparing a direct answer with a proxied one. */
export function comparableHeaders(reply: Reply): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(reply.headers)) if (!PER_CONNECTION.has(name)) out[name] = value;
  return out;
}

/** A fake Ollama and a proxy in front of it, for one test file. */
export interface Stack {
  readonly fake: FakeOllamaServer;
  readonly proxy: RunningProxy;
}

/** Starts a fake Ollama and a proxy in front of it before the file's tests; closes both after. */
export function useStack(fakeOptions: FakeOllamaOptions = {}, proxyOptions: ProxyServerOptions = {}): Stack {
  let fake: FakeOllamaServer | undefined;
  let proxy: RunningProxy | undefined;
  beforeAll(async () => {
    fake = await startFakeOllama(fakeOptions);
    proxy = await startProxy({ port: 0, upstream: fake.url, processMetrics: false, ...proxyOptions });
  });
  afterAll(async () => {
    await proxy?.close({ graceMs: 0 });
    await fake?.close();
  });
  return {
    get fake(): FakeOllamaServer {
      if (!fake) throw new Error('useStack: not started yet');
      return fake;
    },
    get proxy(): RunningProxy {
      if (!proxy) throw new Error('useStack: not started yet');
      return proxy;
    },
  };
}

/** A request an upstream test server received. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** A small real HTTP server standing in for Ollama where the fake has no such route yet; it records what it receives. */
export interface TestUpstream {
  readonly url: string;
  readonly server: Server;
  readonly received: Received[];
  close(): Promise<void>;
}

/** Starts a test upstream whose `answer` writes each response (after the request body has been read, unless `streamBody`). */
export async function startTestUpstream(
  answer: (req: IncomingMessage, res: ServerResponse, received: Received) => void | Promise<void>,
  options: { streamBody?: boolean } = {},
): Promise<TestUpstream> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const entry: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) };
    received.push(entry);
    if (options.streamBody) {
      void answer(req, res, entry);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      entry.body = Buffer.concat(chunks);
      void answer(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until check() is true (polling every 10 ms), failing after timeoutMs. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
