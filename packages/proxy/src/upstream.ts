/**
 * The upstream Ollama: one undici Pool, and the pass-through that streams a request to it and its
 * answer back, byte for byte, with backpressure both ways and no timeout unless one is configured.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { ProxyCounters, UpstreamErrorKind } from './counters.js';
import { UpstreamTimeoutError, UpstreamUnreachableError } from './errors.js';
import type { UpstreamGate } from './gate.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { lingerOnClose } from './linger.js';
import { sendError } from './respond.js';
import type { ApiFlavor } from './routes.js';

/** What the pass-through needs to know about the request it forwards. */
export interface ForwardTarget {
  /** The client's request (method, raw headers). */
  readonly req: IncomingMessage;
  /** The client's response, written as Ollama's answer arrives. */
  readonly res: ServerResponse;
  /** Path and query to request from Ollama (the proxy's /ns/ prefix removed). */
  readonly path: string;
  /** Error shape for the proxy's own errors (502, 504). */
  readonly api: ApiFlavor;
  /** Set by forward(): the call in flight, so a client that goes away can abort it. */
  upstreamCall: UpstreamCall | undefined;
  /** Set by forward(): Ollama's status once its headers arrived. */
  upstreamStatus: number | undefined;
}

/** A call in flight to Ollama. */
export interface UpstreamCall {
  /** Aborts the call (the client went away). */
  abort(): void;
}

/** Removes user:password@ from a URL, so credentials never reach a message or a log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || TIMEOUT_CODES.has(code))) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an upstream readiness probe found. */
export interface UpstreamProbe {
  /** True when Ollama answered GET /api/version with 200. */
  ok: boolean;
  /** The upstream base URL (credentials removed). */
  url: string;
  /** Ollama's HTTP status, when it answered. */
  status?: number;
  /** Ollama's version, when it said. */
  version?: string;
  /** Why it is not ok. */
  error?: string;
}

/** Settings of Upstream. */
export interface UpstreamSettings {
  /** Ollama's base URL, e.g. http://127.0.0.1:11434 (a path, if any, prefixes every request). */
  url: string;
  /** Deadline for Ollama's response headers and between body bytes, in ms; 0 = none. */
  timeoutMs: number;
  /** Deadline to open a connection to Ollama, in ms. */
  connectTimeoutMs: number;
  /** The proxy's counters. */
  counters: ProxyCounters;
  /** True when the client's Authorization header goes to Ollama (asked per request: keys can be loaded later). */
  forwardAuthorization: () => boolean;
  /** The bound on generations at Ollama. */
  gate: UpstreamGate;
}

/** The upstream Ollama and the pass-through to it. */
export class Upstream {
  /** The base URL as shown in messages (credentials removed, no trailing slash). */
  readonly url: string;
  /** The undici pool every upstream request goes through. */
  readonly pool: Pool;
  /** Deadline for response headers and between body bytes, in ms; 0 = none. */
  readonly timeoutMs: number;
  /** The proxy's counters (upstream calls, errors, latency). */
  readonly counters: ProxyCounters;
  readonly #forwardAuthorization: () => boolean;
  /** The bound on generations at Ollama (model routes take a slot; see UpstreamGate). */
  readonly gate: UpstreamGate;
  readonly #basePath: string;

  constructor(settings: UpstreamSettings) {
    const url = new URL(settings.url);
    this.url = redactUrl(url.href).replace(/\/$/, '');
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.timeoutMs = settings.timeoutMs;
    this.counters = settings.counters;
    this.#forwardAuthorization = settings.forwardAuthorization;
    this.gate = settings.gate;
    // No connection limit: a pull or a long generation holds its connection for minutes.
    this.pool = new Pool(url.origin, {
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connect: { timeout: settings.connectTimeoutMs },
      keepAliveTimeout: 4_000,
    });
  }

  /** True when the client's Authorization header goes to Ollama. */
  get forwardAuthorization(): boolean {
    return this.#forwardAuthorization();
  }

  /** The path to request from Ollama for a client path (the base URL's path, if any, in front). */
  pathFor(path: string): string {
    return this.#basePath === '' ? path : this.#basePath + path;
  }

  /**
   * Forwards the request to Ollama and streams the answer back: status, headers (less hop-by-hop
   * ones) and bytes as Ollama sent them. `body` is the request body: the client's stream (pass-through
   * routes), the bytes already read (cached routes), or null for none. Resolves when the answer has
   * ended or failed; never rejects: an unreachable Ollama is a 502, a timeout a 504 (both in the
   * route's error shape), a break after the answer started cuts the client's connection.
   */
  forward(target: ForwardTarget, body: Buffer | Readable | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const handler = new ForwardHandler(this, target, resolve);
      target.upstreamCall = handler;
      this.counters.upstreamRequests++;
      const req = target.req;
      this.pool.dispatch(
        {
          method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
          path: this.pathFor(target.path),
          headers: upstreamRequestHeaders(req.rawHeaders, req.headers.connection, this.forwardAuthorization),
          body,
        },
        handler,
      );
    });
  }

  /**
   * Counts a failed call and returns the error its callers see: UpstreamTimeoutError for a deadline
   * that elapsed, UpstreamUnreachableError for a call that could not be made, the error itself for
   * an answer that broke off after it had started.
   */
  failure(error: unknown, started: boolean): Error {
    const cause = error instanceof Error ? error : new Error(String(error));
    const code = errorCode(error);
    const kind: UpstreamErrorKind = code !== undefined && TIMEOUT_CODES.has(code) ? 'timeout' : started ? 'broken' : 'unreachable';
    this.counters.countUpstreamError(kind);
    if (kind === 'timeout') return new UpstreamTimeoutError(this.url, this.timeoutMs, { cause });
    if (kind === 'broken') return cause;
    const reason = code === undefined ? cause.message : `${code}${cause.message && !cause.message.includes(code) ? `: ${cause.message}` : ''}`;
    return new UpstreamUnreachableError(this.url, reason, { cause });
  }

  /** Counts a failed call and answers the client, or cuts its connection when the answer had started. */
  fail(target: ForwardTarget, error: Error, started: boolean): void {
    const failure = this.failure(error, started);
    const res = target.res;
    if (res.headersSent || started) {
      res.destroy(error);
      return;
    }
    const closeAfter = target.req.complete ? undefined : { Connection: 'close' };
    if (closeAfter !== undefined) lingerOnClose(target.req);
    const status = UpstreamTimeoutError.isInstance(failure) ? 504 : 502;
    sendError(res, status, failure.message, target.api, closeAfter);
  }

  /** Asks Ollama for its version (GET /api/version), for readiness; never throws. */
  async probe(timeoutMs: number): Promise<UpstreamProbe> {
    try {
      const { statusCode, body } = await this.pool.request({
        method: 'GET',
        path: this.pathFor('/api/version'),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await body.text();
      if (statusCode !== 200) return { ok: false, url: this.url, status: statusCode, error: `GET /api/version answered ${statusCode}` };
      let version: string | undefined;
      try {
        const parsed = JSON.parse(text) as { version?: unknown };
        if (typeof parsed.version === 'string') version = parsed.version;
      } catch {
        // not JSON: still an answer
      }
      return version === undefined ? { ok: true, url: this.url, status: statusCode } : { ok: true, url: this.url, status: statusCode, version };
    } catch (error) {
      const code = errorCode(error);
      return { ok: false, url: this.url, error: code ?? (error instanceof Error ? error.message : String(error)) };
    }
  }

  /** Closes the pool: waits for calls in flight, or with force, ends them at once. */
  async close(force = false): Promise<void> {
    if (force) await this.pool.destroy();
    else await this.pool.close();
  }
}

/** One forwarded call: undici's dispatch handler, writing Ollama's answer to the client as it arrives. */
class ForwardHandler implements Dispatcher.DispatchHandler, UpstreamCall {
  readonly #upstream: Upstream;
  readonly #target: ForwardTarget;
  readonly #done: () => void;
  readonly #startedAt = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  #aborted = false;
  #started = false;
  #resume: (() => void) | undefined;

  constructor(upstream: Upstream, target: ForwardTarget, done: () => void) {
    this.#upstream = upstream;
    this.#target = target;
    this.#done = done;
  }

  abort(): void {
    this.#aborted = true;
    this.#controller?.abort(new Error('the client went away'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#aborted) controller.abort(new Error('the client went away'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    const target = this.#target;
    const res = target.res;
    this.#upstream.counters.upstreamLatency.observe((performance.now() - this.#startedAt) / 1000);
    this.#started = true;
    target.upstreamStatus = statusCode;
    if (res.destroyed) {
      controller.abort(new Error('the client went away'));
      return;
    }
    // Ollama answered before the client finished sending (an error, say): close the connection
    // afterwards rather than read the rest of a body nobody wants.
    if (!target.req.complete) res.shouldKeepAlive = false;
    res.writeHead(statusCode, statusMessage || undefined, clientResponseHeaders(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#target.res.write(chunk)) {
      controller.pause();
      this.#resume ??= () => controller.resume();
      this.#target.res.once('drain', this.#resume);
    }
  }

  onResponseEnd(): void {
    this.#target.res.end();
    this.#done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.#aborted && !this.#target.res.destroyed) this.#upstream.fail(this.#target, error, this.#started);
    this.#done();
  }
}
