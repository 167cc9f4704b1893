/** Reading a cached route's request body into memory, up to a limit. */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './errors.js';

/** The client went away (or its connection broke) while sending its body: nothing is answered. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away before sending its whole request');
    this.name = 'ClientGoneError';
  }
}

const EMPTY = Buffer.alloc(0);

/** Who hears how a body read ended: exactly one of the two is called, once. */
export interface BodySink {
  /** The whole body (one Buffer, copied only when it came in several chunks). */
  onBody(body: Buffer): void;
  /** BodyTooLargeError, or ClientGoneError when the client went away first. */
  onBodyError(error: Error): void;
}

/**
 * Reads a request body for a sink. A declared Content-Length over the limit is refused before any
 * byte is read; a body that grows past it is refused as soon as it does. Two listeners and no
 * promise: most bodies arrive in one chunk right after their headers, and this is every cache hit's
 * path. A client that goes away mid-body is reported by the caller (abandon()), which watches the
 * response's 'close' anyway.
 */
export class BodyReader {
  readonly #req: IncomingMessage;
  readonly #limitBytes: number;
  readonly #sink: BodySink;
  #first: Buffer | undefined;
  #chunks: Buffer[] | undefined;
  #total = 0;
  #settled = false;

  constructor(req: IncomingMessage, limitBytes: number, sink: BodySink) {
    this.#req = req;
    this.#limitBytes = limitBytes;
    this.#sink = sink;
  }

  /** Starts reading. */
  start(): void {
    const req = this.#req;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.#limitBytes) {
      this.#fail(new BodyTooLargeError(this.#limitBytes));
      return;
    }
    if (req.complete) {
      this.#settled = true;
      this.#sink.onBody(EMPTY);
      return;
    }
    req.on('data', (chunk: Buffer) => this.#onData(chunk));
    req.on('end', () => this.#onEnd());
  }

  /** The client went away before the body was complete: reports ClientGoneError (once). */
  abandon(): void {
    if (!this.#settled) this.#fail(new ClientGoneError());
  }

  #onData(chunk: Buffer): void {
    if (this.#settled) return;
    this.#total += chunk.length;
    if (this.#total > this.#limitBytes) {
      this.#req.pause();
      this.#fail(new BodyTooLargeError(this.#limitBytes));
      return;
    }
    if (this.#first === undefined) this.#first = chunk;
    else if (this.#chunks === undefined) this.#chunks = [this.#first, chunk];
    else this.#chunks.push(chunk);
  }

  #onEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    const body = this.#chunks !== undefined ? Buffer.concat(this.#chunks, this.#total) : (this.#first ?? EMPTY);
    // The chunks are garbage once copied: a reader lives as long as its request, and a large body
    // would otherwise be held twice until the answer is sent.
    this.#first = this.#chunks = undefined;
    this.#sink.onBody(body);
  }

  #fail(error: Error): void {
    this.#settled = true;
    this.#first = this.#chunks = undefined;
    this.#sink.onBodyError(error);
  }
}
