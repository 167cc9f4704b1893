/**
 * Slow clients: a request body that stops arriving for idleMs has its connection closed. One
 * interval checks every body still being received (by the socket's byte count), so a request pays
 * no timer of its own, and an answer, however long, is never cut: a request leaves the watch as
 * soon as its body is complete. Watched requests form an intrusive list (the links live on the
 * request's own state object), so watching costs no allocation and no hashing.
 */
import type { IncomingMessage } from 'node:http';

/** What the watch keeps on a request's state object. */
export interface WatchedBody {
  /** The request whose body is arriving. */
  readonly req: IncomingMessage;
  /** Links of the watch's list (undefined when not watched). */
  bodyPrev: WatchedBody | undefined;
  bodyNext: WatchedBody | undefined;
  /** True while on the list. */
  bodyWatched: boolean;
  /** The socket's byte count at the last sweep (-1: not swept yet). */
  bodyBytes: number;
  /** When that count last changed (performance.now()). */
  bodyQuietSince: number;
}

/** Watches request bodies in progress and cuts the connections whose bodies stalled. */
export class IdleBodies {
  readonly #idleMs: number;
  #head: WatchedBody | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** idleMs: how long a body may stall; 0 turns the watch off. */
  constructor(idleMs: number) {
    this.#idleMs = idleMs;
    if (idleMs > 0) {
      this.#timer = setInterval(() => this.#sweep(), Math.max(50, Math.min(1000, Math.floor(idleMs / 2))));
      this.#timer.unref();
    }
  }

  /** Starts watching a request whose body is still arriving; call done() when it is complete (the sweep also drops complete ones). */
  watch(entry: WatchedBody): void {
    if (this.#timer === undefined || entry.bodyWatched || entry.req.complete) return;
    entry.bodyWatched = true;
    entry.bodyBytes = -1;
    entry.bodyPrev = undefined;
    entry.bodyNext = this.#head;
    if (this.#head !== undefined) this.#head.bodyPrev = entry;
    this.#head = entry;
  }

  /** Stops watching (the body is complete, or the request is gone). */
  done(entry: WatchedBody): void {
    if (!entry.bodyWatched) return;
    entry.bodyWatched = false;
    if (entry.bodyPrev !== undefined) entry.bodyPrev.bodyNext = entry.bodyNext;
    else this.#head = entry.bodyNext;
    if (entry.bodyNext !== undefined) entry.bodyNext.bodyPrev = entry.bodyPrev;
    entry.bodyPrev = entry.bodyNext = undefined;
  }

  /** Stops the interval (the proxy is closing). */
  close(): void {
    while (this.#head !== undefined) this.done(this.#head);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (let entry = this.#head; entry !== undefined; ) {
      const next = entry.bodyNext;
      const { req } = entry;
      const socket = req.socket;
      if (req.complete || socket === null || socket.destroyed) {
        this.done(entry);
      } else if (socket.bytesRead !== entry.bodyBytes) {
        entry.bodyBytes = socket.bytesRead;
        entry.bodyQuietSince = now;
      } else if (now - entry.bodyQuietSince >= this.#idleMs) {
        this.done(entry);
        socket.destroy();
      }
      entry = next;
    }
  }
}
