import { performance } from 'node:perf_hooks';
import type { MaybePromise } from './contract.js';
import { CacheTimeoutError } from './errors.js';

interface Pending {
  deadline: number;
  reject: (error: Error) => void;
  backend: string;
  operation: string;
}

/**
 * Deadlines for many concurrent operations that share one timeout. Every operation of a queue has
 * the same timeoutMs, so the oldest operation still in flight is always the next to expire: an
 * insertion-ordered Set of in-flight operations and at most one timer serve them all, instead of a
 * setTimeout plus a Promise.race per call. Settled operations leave the Set at once, so nothing
 * outlives its operation (records held for the whole window got promoted by the GC and cost more
 * than the timers they replaced). The timer is unref'd and only armed while something is pending.
 */
export class DeadlineQueue {
  readonly #timeoutMs: number;
  readonly #inFlight = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Settles with the operation, or rejects with CacheTimeoutError once timeoutMs has passed. Plain values pass through untouched. */
  run<T>(operation: MaybePromise<T>, backend: string, name: string): MaybePromise<T> {
    if (!(operation instanceof Promise)) return operation;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { deadline: performance.now() + this.#timeoutMs, reject, backend, operation: name };
      this.#inFlight.add(pending);
      if (this.#timer === undefined) this.#arm(pending.deadline);
      operation.then(
        (value) => {
          this.#inFlight.delete(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.#inFlight.delete(pending);
          reject(error);
        },
      );
    });
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()) + 1);
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    // A monotonic clock: a wall-clock step must not stretch or shrink a deadline.
    const now = performance.now();
    for (const pending of this.#inFlight) {
      if (pending.deadline > now) {
        this.#arm(pending.deadline);
        return;
      }
      this.#inFlight.delete(pending);
      pending.reject(new CacheTimeoutError(pending.backend, pending.operation, this.#timeoutMs));
    }
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
