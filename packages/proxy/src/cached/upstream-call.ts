/**
 * One engine call to Ollama through undici's dispatch API: the status and headers when they come,
 * then the body's chunks as they arrive, with backpressure. This is what `pool.request` does, less
 * the Readable stream, its async iterator and the AbortSignal plumbing built around every request:
 * measured on this project's machines, those cost a non-streaming miss about 30-40 us of the proxy's
 * CPU on the path to Ollama and back, and a streamed answer a few us per chunk.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';

/** A request to Ollama: a POST with its bytes. */
export interface CallRequest {
  /** Path and query. */
  readonly path: string;
  /** Raw headers (name, value, name, value...). */
  readonly headers: string[];
  /** The body. */
  readonly body: Uint8Array;
}

/** Ollama's answer once its headers have come. */
export interface CallResponse {
  /** Status code. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** The body, as it arrives. */
  readonly body: CallBody;
}

/** How a call was started: the error when it fails before Ollama answers (rejects `response`). */
interface Pending {
  resolve(response: CallResponse): void;
  reject(error: unknown): void;
}

// Buffered bytes beyond which the upstream is paused until the reader catches up.
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * A response body fed by the dispatch handler and read as an async iterable of Buffers (once), or
 * whole with readAll(). Reading stops the upstream when the reader leaves early (destroy, or a
 * `for await` that breaks).
 */
export class CallBody implements AsyncIterable<Buffer> {
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #ended = false;
  #error: unknown;
  #waiter: ((step: IteratorResult<Buffer>) => void) | undefined;
  #failWaiter: ((error: unknown) => void) | undefined;
  #paused = false;
  readonly #handler: CallHandler;

  constructor(handler: CallHandler) {
    this.#handler = handler;
  }

  /** Takes a chunk from the handler; false when the reader is behind (the handler then pauses). */
  push(chunk: Buffer): boolean {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#failWaiter = undefined;
      waiter({ value: chunk, done: false });
      return true;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes < HIGH_WATER_BYTES) return true;
    this.#paused = true;
    return false;
  }

  /** The body ended. */
  end(): void {
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.#failWaiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** The body broke off (or the call was aborted). */
  fail(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#error = error;
    const fail = this.#failWaiter;
    this.#waiter = undefined;
    this.#failWaiter = undefined;
    fail?.(error);
  }

  /** Stops the call (the reader is not interested any more); idempotent. */
  destroy(reason: Error = new Error('the answer is no longer read')): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#handler.abort(reason);
  }

  #next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queuedBytes -= chunk.length;
      if (this.#paused && this.#queuedBytes < HIGH_WATER_BYTES / 2) {
        this.#paused = false;
        this.#handler.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  /** The chunks in order; leaving early (`break`, or return()) stops the call. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.#next(),
      return: () => {
        this.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** The whole body; beyond `limit` bytes, reading stops there (the call is stopped) and what came is returned. */
  async readAll(limit = Number.POSITIVE_INFINITY): Promise<Buffer> {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const part of this) {
      parts.push(part);
      total += part.length;
      if (total > limit) break;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
  }
}

/** undici's dispatch handler of one call: settles the response promise, then feeds the body. */
class CallHandler implements Dispatcher.DispatchHandler {
  readonly #pending: Pending;
  readonly #body: CallBody;
  readonly #signal: AbortSignal;
  readonly #onSettled: (() => void) | undefined;
  readonly #onAbort = (): void => this.abort(this.#signal.reason);
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: unknown;
  #started = false;
  #settled = false;

  constructor(pending: Pending, signal: AbortSignal, onSettled: (() => void) | undefined) {
    this.#pending = pending;
    this.#signal = signal;
    this.#onSettled = onSettled;
    this.#body = new CallBody(this);
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Stops the call with reason (the response promise or the body sees it). */
  abort(reason: unknown): void {
    if (this.#settled) return;
    this.#abortReason ??= reason;
    this.#controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  /** Lets a paused upstream send again (the reader caught up). */
  resume(): void {
    this.#controller?.resume();
  }

  #settle(): void {
    this.#settled = true;
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onSettled?.();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason instanceof Error ? this.#abortReason : new Error(String(this.#abortReason)));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#started = true;
    this.#pending.resolve({ status: statusCode, headers: headers as IncomingHttpHeaders, body: this.#body });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#body.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.#settle();
    this.#body.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#settle();
    // An abort asked for by the caller surfaces as its own reason, as with a request's signal.
    const reason = this.#abortReason ?? error;
    if (this.#started) this.#body.fail(reason);
    else this.#pending.reject(reason);
  }
}

/**
 * Sends request to Ollama; resolves when the response headers come, rejects when the call fails
 * before (or the signal aborts it). onSettled runs once the call is over: its body ended, or the
 * call failed or was stopped.
 */
export function callUpstream(pool: Pool, request: CallRequest, signal: AbortSignal, onSettled?: () => void): Promise<CallResponse> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<CallResponse>((resolve, reject) => {
    const handler = new CallHandler({ resolve, reject }, signal, onSettled);
    pool.dispatch({ method: 'POST', path: request.path, headers: request.headers, body: request.body }, handler);
  });
}
