import type { MaybePromise } from './contract.js';
import { CacheTimeoutError } from './errors.js';

interface Pending {
  deadline: number;
  settled: boolean;
  reject: (error: Error) => void;
  backend: string;
  operation: string;
}

/**
 * Deadlines for many concurrent operations that share one timeout. Every operation of a queue has
 * the same timeoutMs, so deadlines arrive in insertion order: one FIFO and at most one timer serve
 * them all, instead of a setTimeout plus a Promise.race per call (measurably cheaper at 256 lookups
 * in flight). The timer is unref'd and only armed while something is pending.
 */
export class DeadlineQueue {
  readonly #timeoutMs: number;
  #queue: Pending[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Settles with the operation, or rejects with CacheTimeoutError once timeoutMs has passed. Plain values pass through untouched. */
  run<T>(operation: MaybePromise<T>, backend: string, name: string): MaybePromise<T> {
    if (!(operation instanceof Promise)) return operation;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { deadline: Date.now() + this.#timeoutMs, settled: false, reject, backend, operation: name };
      this.#queue.push(pending);
      this.#arm();
      operation.then(
        (value) => {
          pending.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.settled = true;
          reject(error);
        },
      );
    });
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const first = this.#queue[this.#head];
    if (first === undefined) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, first.deadline - Date.now()) + 1);
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    while (this.#head < this.#queue.length) {
      const pending = this.#queue[this.#head] as Pending;
      if (!pending.settled && pending.deadline > now) break;
      this.#head++;
      if (!pending.settled) {
        pending.settled = true;
        pending.reject(new CacheTimeoutError(pending.backend, pending.operation, this.#timeoutMs));
      }
    }
    // Drop the consumed prefix once it dominates, so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    this.#arm();
  }
}

/**
 * Settles with the operation, or rejects with CacheTimeoutError after timeoutMs. A value that is
 * not a promise (an in-process backend answering synchronously) passes through with no timer.
 * For one-off calls; ResponseCache uses a DeadlineQueue.
 */
export function withDeadline<T>(operation: MaybePromise<T>, timeoutMs: number, backend: string, name: string): MaybePromise<T> {
  if (!(operation instanceof Promise)) return operation;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeoutError(backend, name, timeoutMs)), timeoutMs);
  });
  // A late rejection of the abandoned operation must not become an unhandled rejection.
  operation.catch(() => {});
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
