/**
 * The bound on generations running at Ollama: at most `maxActive` at once, at most `maxQueued`
 * waiting (first come, first served), and a 503 beyond that. Only calls that reach Ollama's model
 * routes pass through it; answers from the cache never wait here.
 */
import { UpstreamBusyError } from './errors.js';

/** Gives the slot back; calling it more than once is harmless. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
}

const NOOP: ReleaseSlot = () => {};
const GRANTED_UNBOUNDED: Promise<ReleaseSlot> = Promise.resolve(NOOP);

/** Seconds a refused client is told to wait (Retry-After). */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** The generation bound and its queue. */
export class UpstreamGate {
  /** Most generations at Ollama at once; 0 = no bound. */
  readonly maxActive: number;
  /** Most requests waiting for a slot. */
  readonly maxQueued: number;
  /** Generations running now (slots held). */
  active = 0;
  /** Requests refused with 503 because the queue was full. */
  rejected = 0;
  /** Highest number of slots held at once since start. */
  peakActive = 0;
  // Short (bounded by maxQueued), so plain array operations are fine.
  readonly #queue: Waiter[] = [];

  constructor(maxActive: number, maxQueued: number) {
    this.maxActive = maxActive;
    this.maxQueued = maxQueued;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Takes a slot at once when one is free; undefined when the caller must wait (or is refused). */
  tryAcquire(): ReleaseSlot | undefined {
    if (this.maxActive === 0) return NOOP;
    if (this.active >= this.maxActive || this.queued > 0) return undefined;
    return this.#take();
  }

  /**
   * A slot, now or when one frees up. Rejects with UpstreamBusyError when the queue is full, or with
   * the signal's reason when the caller goes away while waiting (its place is given up).
   */
  acquire(signal?: AbortSignal): Promise<ReleaseSlot> {
    if (this.maxActive === 0) return GRANTED_UNBOUNDED;
    const now = this.tryAcquire();
    if (now !== undefined) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queued >= this.maxQueued) {
      this.rejected++;
      return Promise.reject(new UpstreamBusyError(this.active, this.queued, BUSY_RETRY_AFTER_SECONDS));
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#queue.indexOf(waiter);
        if (at !== -1) this.#queue.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #take(): ReleaseSlot {
    this.active++;
    if (this.active > this.peakActive) this.peakActive = this.active;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.#next();
    };
  }

  // Hands the freed slot to the first waiter.
  #next(): void {
    while (this.active < this.maxActive && this.#queue.length > 0) (this.#queue.shift() as Waiter).grant(this.#take());
  }
}
