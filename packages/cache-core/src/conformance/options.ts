import type { CacheBackend } from '../contract.js';

/** A backend or a promise of one. */
export type BackendFactoryResult = CacheBackend | Promise<CacheBackend>;

/** How the conformance suite gets backends to test. */
export interface ConformanceOptions {
  /** A backend on the shared test store, scoped to namespace; called many times, each instance is closed by the suite. */
  createBackend(context: { namespace: string }): BackendFactoryResult;
  /** Network backends: a backend pointed at an address that never answers; each call must settle (reject or miss) within unreachableBoundMs. */
  createUnreachableBackend?(): BackendFactoryResult;
  /** The bound for an unreachable backend's calls, in ms. Default 2000. */
  unreachableBoundMs?: number;
  /** Evicting backends: a backend bounded to maxEntries entries. */
  createBoundedBackend?(context: { namespace: string; maxEntries: number }): BackendFactoryResult;
  /** How long the TTL cases wait for expiry, in ms; raise it for stores with coarse expiry. Default 300. */
  ttlMs?: number;
}

/** One case of the suite, runnable under any test framework. */
export interface ConformanceCase {
  /** What the case proves. */
  name: string;
  /** Runs the case; rejects with an assertion error when the backend breaks the contract. */
  run(): Promise<void>;
}
