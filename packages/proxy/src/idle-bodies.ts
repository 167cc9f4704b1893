/**
 * Slow clients: a request body that stops arriving for idleMs has its connection closed. One
 * interval checks every body still being received (by the socket's byte count), so a request pays
 * no timer of its own, and an answer, however long, is never cut: a request leaves the watch as
 * soon as its body is complete.
 */
import type { IncomingMessage } from 'node:http';

const LAST_BYTES = Symbol('tinyllm.lastBytesRead');
const QUIET_SINCE = Symbol('tinyllm.quietSince');

type Watched = IncomingMessage & { [LAST_BYTES]?: number; [QUIET_SINCE]?: number };

/** Watches request bodies in progress and cuts the connections whose bodies stalled. */
export class IdleBodies {
  readonly #idleMs: number;
  readonly #watched = new Set<Watched>();
  #timer: NodeJS.Timeout | undefined;

  /** idleMs: how long a body may stall; 0 turns the watch off. */
  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** Starts watching a request whose body is still arriving; it leaves the watch on 'end' (or with done()). */
  watch(req: IncomingMessage): void {
    if (this.#idleMs === 0 || req.complete) return;
    const watched = req as Watched;
    watched[LAST_BYTES] = req.socket.bytesRead;
    watched[QUIET_SINCE] = performance.now();
    this.#watched.add(watched);
    req.once('end', stopWatching);
    (watched as Watched & { [OWNER]?: IdleBodies })[OWNER] = this;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), Math.max(50, Math.min(1000, Math.floor(this.#idleMs / 2))));
      this.#timer.unref();
    }
  }

  /** Stops watching (the body is complete, or the request is gone). */
  done(req: IncomingMessage): void {
    this.#watched.delete(req as Watched);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Stops the interval (the proxy is closing). */
  close(): void {
    this.#watched.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (const req of this.#watched) {
      const socket = req.socket;
      if (req.complete || socket === null || socket.destroyed) {
        this.done(req);
        continue;
      }
      if (socket.bytesRead !== req[LAST_BYTES]) {
        req[LAST_BYTES] = socket.bytesRead;
        req[QUIET_SINCE] = now;
      } else if (now - (req[QUIET_SINCE] as number) >= this.#idleMs) {
        this.done(req);
        socket.destroy();
      }
    }
  }
}

const OWNER = Symbol('tinyllm.idleBodies');

function stopWatching(this: IncomingMessage): void {
  (this as IncomingMessage & { [OWNER]?: IdleBodies })[OWNER]?.done(this);
}
