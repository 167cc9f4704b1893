import type { MaybePromise } from './contract.js';
import { CacheTimeoutError } from './errors.js';

/**
 * Settles with the operation, or rejects with CacheTimeoutError after timeoutMs. A value that is
 * not a promise (an in-process backend answering synchronously) passes through with no timer.
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
