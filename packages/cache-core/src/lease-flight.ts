import type { CacheLeases, MaybePromise } from './contract.js';
import type { CacheEntry } from './entry.js';
import { BackendError } from './errors.js';

/** What ResponseCache lends the lease protocol: bounded backend calls, error counting, an uncounted read. */
export interface LeaseHost<T> {
  /** The backend's leases. */
  readonly leases: CacheLeases;
  /** Backend name, for errors. */
  readonly backendName: string;
  /** Lease lifetime, in ms. */
  readonly ttlMs: number;
  /** Bounds one backend call by the cache's deadline (rejects with CacheTimeoutError past it). */
  bounded<R>(operation: MaybePromise<R>, name: string): MaybePromise<R>;
  /** Counts and logs a failed cache operation. */
  failed(operation: string, key: string, error: unknown): void;
  /** Reads key again without counting a hit or a miss; undefined when absent or not acceptable to this call. Rejects when the backend failed. */
  reread(key: string): Promise<CacheEntry<T> | undefined>;
}

/** A lease this process holds while it computes: renewed on a timer, released once the answer is written. */
export interface HeldLease {
  /** Stops renewing and releases the lease (compare-and-delete); never rejects. */
  release(): Promise<void>;
}

/** How a miss proceeds: lead with a lease, answer from the entry another process wrote, or compute without a lease. */
export type Turn<T> = { kind: 'lead'; lease: HeldLease } | { kind: 'found'; entry: CacheEntry<T> } | { kind: 'alone' };

/** Longest single wait for another process's outcome before reading again, in ms: bounds a lost wake-up. */
export const MAX_WAIT_SLICE_MS = 1000;

/**
 * The cross-process half of single flight, run by the one caller per process that missed a key:
 * take the key's lease and lead, or wait for the holder's outcome and read the entry it wrote; when
 * the holder gave up or died (the lease was released or lapsed with no entry), take the lease over.
 * Every failure (an error, a timeout, a store that cannot say) means "compute here", counted.
 */
export async function takeTurn<T>(host: LeaseHost<T>, key: string): Promise<Turn<T>> {
  // A wait slice: short enough that a lapsed lease (no wake-up is sent) is noticed soon after it lapses.
  const sliceMs = Math.min(MAX_WAIT_SLICE_MS, Math.max(25, Math.floor(host.ttlMs / 4)));
  for (let waited = false; ; waited = true) {
    // The lease and the entry are asked for together (one round trip on a pipelining client), the
    // lease first: a holder that wrote and released before the acquire left an entry, which the
    // read after it then finds and serves instead of computing a second time. (Read first, a
    // holder finishing between the two calls left neither, and the answer was computed twice.)
    const taking = attempt(() => host.bounded(host.leases.acquire(key, host.ttlMs), 'leaseAcquire'));
    const [taken, found] = await Promise.allSettled([taking, host.reread(key)]);
    if (taken.status === 'rejected') {
      host.failed('leaseAcquire', key, taken.reason);
      return { kind: 'alone' };
    }
    const token = taken.value;
    if (token === 'unavailable') {
      host.failed('leaseAcquire', key, new BackendError(host.backendName, 'leaseAcquire', 'the store cannot take or read leases right now'));
      return { kind: 'alone' };
    }
    if (found.status === 'fulfilled' && found.value !== undefined) {
      if (typeof token === 'string') void release(host, key, token);
      return { kind: 'found', entry: found.value };
    }
    if (found.status === 'rejected') {
      host.failed(waited ? 'leaseWait' : 'get', key, found.reason);
      if (typeof token === 'string') void release(host, key, token);
      return { kind: 'alone' };
    }
    if (typeof token === 'string') return { kind: 'lead', lease: hold(host, key, token) };
    try {
      await host.leases.waitForOutcome(key, sliceMs);
      // Usually the holder's entry is there now: read it before competing for the lease again.
      const entry = await host.reread(key);
      if (entry !== undefined) return { kind: 'found', entry };
    } catch (error) {
      host.failed('leaseWait', key, error);
      return { kind: 'alone' };
    }
  }
}

// Calls work now (a synchronous backend acts before the next call is made), a throw as a rejection.
function attempt<R>(work: () => MaybePromise<R>): Promise<R> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

// Releases a lease; a failure is counted (the lease then lapses on its own within ttlMs).
async function release<T>(host: LeaseHost<T>, key: string, token: string): Promise<void> {
  try {
    await host.bounded(host.leases.release(key, token), 'leaseRelease');
  } catch (error) {
    host.failed('leaseRelease', key, error);
  }
}

// Renews the lease every third of its lifetime until released; a renewal that fails or finds the
// lease gone is logged and counted, and the computation goes on (the lock only saves work).
function hold<T>(host: LeaseHost<T>, key: string, token: string): HeldLease {
  let lost = false;
  const timer = setInterval(
    () => {
      if (lost) return;
      Promise.resolve()
        .then(() => host.bounded(host.leases.renew(key, token, host.ttlMs), 'leaseRenew'))
        .then(
          (renewed) => {
            if (renewed) return;
            lost = true;
            host.failed('leaseRenew', key, new BackendError(host.backendName, 'leaseRenew', 'the lease lapsed before the answer was complete'));
          },
          (error: unknown) => host.failed('leaseRenew', key, error),
        );
    },
    Math.max(10, Math.floor(host.ttlMs / 3)),
  );
  timer.unref();
  let released: Promise<void> | undefined;
  return {
    release() {
      clearInterval(timer);
      released ??= release(host, key, token);
      return released;
    },
  };
}
