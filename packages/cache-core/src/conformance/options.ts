import type { CacheBackend } from '../contract.js';

/** A backend or a promise of one. */
export type BackendFactoryResult = CacheBackend | Promise<CacheBackend>;

/** How the conformance suite gets backends to test. */
export interface ConformanceOptions {
  /** A backend on the shared test store, scoped to namespace; called many times, each instance is closed by the suite. @default (required) */
  createBackend(context: { namespace: string }): BackendFactoryResult;
  /** Network backends: a backend pointed at an address that never answers; each call must settle (reject or miss) within unreachableBoundMs. @default none (the case is not registered) */
  createUnreachableBackend?(): BackendFactoryResult;
  /** The bound for an unreachable backend's calls, in ms. @default 2000 */
  unreachableBoundMs?: number;
  /** Evicting backends: a backend bounded to maxEntries entries. @default none (the case is not registered) */
  createBoundedBackend?(context: { namespace: string; maxEntries: number }): BackendFactoryResult;
  /** How long the TTL cases wait for expiry, in ms; raise it for stores with coarse expiry. @default 300 */
  ttlMs?: number;
  /**
   * The backend is shared (capabilities.shared): instances on one namespace see each other's
   * entries. Registers the shared cases; a case checks that the backend's capabilities agree, so a
   * shared backend cannot skip them by leaving this out. @default false
   */
  shared?: boolean;
  /**
   * The backend lists its entries (capabilities.lists: list, peek, prune). Registers the listing
   * cases; a case checks that the capabilities agree. @default false
   */
  lists?: boolean;
  /**
   * The backend offers cross-process single flight (a `leases` property, see CacheLeases): registers
   * the lease cases (two instances on one namespace compete for one lease). A case checks that the
   * backend agrees, so a backend with leases cannot skip them by leaving this out. @default false
   */
  leases?: boolean;
  /**
   * The backend keeps entries for stale-if-error (capabilities.staleIfError, and getStale): registers
   * the stale cases; a case checks that the capabilities agree. @default false
   */
  staleIfError?: boolean;
}

/** One case of the suite, runnable under any test framework. */
export interface ConformanceCase {
  /** What the case proves. */
  name: string;
  /** Runs the case; rejects with an assertion error when the backend breaks the contract. */
  run(): Promise<void>;
}
