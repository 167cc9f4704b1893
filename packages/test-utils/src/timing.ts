import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/**
 * Resolves once predicate returns true, checking every 20 ms; rejects after timeoutMs with an error
 * naming the bound. For waiting on something asynchronous, never for asserting speed.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`waitFor: the condition was not met within ${timeoutMs} ms`);
    await delay(20);
  }
}
