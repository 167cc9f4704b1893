/**
 * Slow clients: a request body that stops arriving for idleMs has its connection closed. One
 * interval checks every body still being received (by the socket's byte count), so a request pays
 * no timer of its own (a Map entry while its body arrives), and an answer, however long, is never
 * cut: a request leaves the watch as soon as its body is complete.
 */
import type { IncomingMessage } from 'node:http';

/** What the sweep remembers of a body it has seen stalled or moving: the socket's byte count and since when it has not changed. */
interface Progress {
  bytes: number;
  since: number;
}

/** Watches request bodies in progress and cuts the connections whose bodies stalled. */
export class IdleBodies {
  readonly #idleMs: number;
  // Progress is recorded by the sweep only: most bodies are complete before it ever runs.
  readonly #watched = new Map<IncomingMessage, Progress | undefined>();
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
  watch(req: IncomingMessage): void {
    if (this.#timer !== undefined && !req.complete) this.#watched.set(req, undefined);
  }

  /** Stops watching (the body is complete, or the request is gone). */
  done(req: IncomingMessage): void {
    this.#watched.delete(req);
  }

  /** Stops the interval (the proxy is closing). */
  close(): void {
    this.#watched.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [req, progress] of this.#watched) {
      const socket = req.socket;
      if (req.complete || socket === null || socket.destroyed) {
        this.#watched.delete(req);
      } else if (progress === undefined || socket.bytesRead !== progress.bytes) {
        this.#watched.set(req, { bytes: socket.bytesRead, since: now });
      } else if (now - progress.since >= this.#idleMs) {
        this.#watched.delete(req);
        socket.destroy();
      }
    }
  }
}
