import { jsonTextOf } from './codec.js';
import type { BackendCapabilities, BackendStats, CacheBackend, MaybePromise, ScopeOptions, SetResult } from './contract.js';
import { type CacheEntry, isRetired } from './entry.js';
import { BackendClosedError, BackendError, CacheDecodeError, TinyLLMError } from './errors.js';
import { assertNamespace } from './keys.js';

/**
 * Marks a backend whose get() never returns an expired entry because BackendBase checks it; a
 * ResponseCache over such a backend skips its own check. A registered symbol, so it holds across
 * duplicated copies of this package.
 */
export const CHECKS_EXPIRY: unique symbol = Symbol.for('tinyllm.cache.checksExpiry');

const ignore = (): void => {};

/**
 * How a backend answers: `sync` backends (memory, SQLite) return plain values, so no promise and no
 * deadline timer; `async` ones (Redis) return promises and report every failure as a rejection;
 * `either` lets each hook return a value or a promise (a failure may then be thrown or rejected).
 */
export type AnswerMode = 'sync' | 'async' | 'either';

/** A value of type T as a backend of mode M returns it. */
export type Answer<M extends AnswerMode, T> = M extends 'sync' ? T : M extends 'async' ? Promise<T> : MaybePromise<T>;

/**
 * The boilerplate every backend shares, so a backend implements only its storage. A subclass
 * supplies `read`, `write`, `remove`, `removeAll` and `measure` (and, optionally, `contains` and
 * `shutdown`); BackendBase supplies the CacheBackend methods around them:
 *
 * - the closed state: after close() (idempotent) every call fails with BackendClosedError naming
 *   the backend and the operation;
 * - expiry: an entry read past its expiresAt is a miss and is removed in the background; set()
 *   of an elapsed entry stores nothing and removes the old value;
 * - one rule for values: a value JSON cannot carry (undefined, a function, a symbol, a BigInt, a
 *   cycle) is refused (set returns false, the old value is removed); `write` gets the JSON text;
 * - has() from read() unless `contains` answers cheaper;
 * - clear({ namespace }) and stats({ namespace }) checked and turned into a key prefix;
 * - errors with context: a driver error becomes a BackendError naming the backend and the operation
 *   (the driver's error as cause), a CacheDecodeError gets the backend and the operation.
 *
 * The type parameter and the constructor's `mode` say how it answers (see AnswerMode): pass the same
 * one to both, e.g. `class MyBackend extends BackendBase<'async'> { constructor() { super('async'); } }`.
 */
export abstract class BackendBase<M extends AnswerMode = 'either'> implements CacheBackend {
  /** Short name used in logs and errors, e.g. "memory". */
  abstract readonly name: string;
  /** What this backend can do. */
  abstract readonly capabilities: BackendCapabilities;
  /** get() never returns an expired entry (see CHECKS_EXPIRY). */
  readonly [CHECKS_EXPIRY] = true;
  readonly #rejects: boolean;
  #closed = false;
  #closing: MaybePromise<void> = undefined;

  /** mode: how the backend answers; `async` turns failures before any hook runs (closed, a bad namespace) into rejections too. */
  constructor(mode: M = 'either' as M) {
    this.#rejects = mode === 'async';
  }

  /**
   * The entry stored under key, or undefined; it may be expired (BackendBase drops it). `now` is
   * this call's clock (ms since the epoch), for backends that record the access.
   */
  protected abstract read(key: string, now: number): Answer<M, CacheEntry | undefined>;
  /** Stores an unexpired entry whose value serialises to valueJson; returns false to refuse it (for example, larger than a bound). */
  protected abstract write(key: string, entry: CacheEntry, valueJson: string): Answer<M, SetResult>;
  /** Removes the entry under key; true when one was there. */
  protected abstract remove(key: string): Answer<M, boolean>;
  /** Removes the entries whose key starts with keyPrefix (every entry of this backend when undefined); returns how many went. */
  protected abstract removeAll(keyPrefix: string | undefined): Answer<M, number>;
  /** Stats of the entries whose key starts with keyPrefix (every entry of this backend when undefined). */
  protected abstract measure(keyPrefix: string | undefined): Answer<M, BackendStats>;

  /**
   * The entry stored under key even past its expiresAt (getStale filters by staleUntil), or
   * undefined. Default: read(). Override when read() already drops expired rows (SQLite does).
   */
  protected readStale(key: string, now: number): Answer<M, CacheEntry | undefined> {
    return this.read(key, now);
  }

  /** Whether an unexpired entry is stored under key. Default: read() it. Override when the store answers cheaper, or without counting an access. */
  protected contains(key: string): Answer<M, boolean> {
    const now = Date.now();
    const found: MaybePromise<CacheEntry | undefined> = this.read(key, now);
    const live = (entry: CacheEntry | undefined): boolean => this.#live(key, entry, now) !== undefined;
    return (found instanceof Promise ? found.then(live) : live(found)) as Answer<M, boolean>;
  }

  /** Releases connections and handles; called once, by the first close(). */
  protected shutdown(): Answer<M, void> {
    return (this.#rejects ? Promise.resolve() : undefined) as Answer<M, void>;
  }

  /** The unexpired entry under key, or undefined. */
  get(key: string): Answer<M, CacheEntry | undefined> {
    // Written out rather than through #call: this is the hit path, and it allocates nothing.
    const now = Date.now();
    let found: MaybePromise<CacheEntry | undefined>;
    try {
      if (this.#closed) throw new BackendClosedError(this.name, 'get');
      found = this.read(key, now);
    } catch (error) {
      return this.#fail('get', error) as unknown as Answer<M, CacheEntry | undefined>;
    }
    if (!(found instanceof Promise)) return this.#live(key, found, now) as Answer<M, CacheEntry | undefined>;
    return found.then(
      (entry) => this.#live(key, entry, now),
      (error: unknown) => {
        throw this.#withContext('get', error);
      },
    ) as Answer<M, CacheEntry | undefined>;
  }

  /**
   * The entry under key, fresh or within its stale window (stale-if-error), or undefined. Never
   * removes anything: an entry past both is left to get() and the store's own expiry.
   */
  getStale(key: string): Answer<M, CacheEntry | undefined> {
    const now = Date.now();
    const within = (entry: CacheEntry | undefined): CacheEntry | undefined => (entry === undefined || isRetired(entry, now) ? undefined : entry);
    return this.#call('getStale', () => {
      const found: MaybePromise<CacheEntry | undefined> = this.readStale(key, now);
      return found instanceof Promise ? found.then(within) : within(found);
    }) as Answer<M, CacheEntry | undefined>;
  }

  /** Stores the entry; false when it was refused (its value is not JSON, or write() refused it). An elapsed expiry stores nothing. */
  set(key: string, entry: CacheEntry): Answer<M, SetResult> {
    return this.#call('set', () => {
      const elapsed = entry.expiresAt !== null && entry.expiresAt <= Date.now();
      const valueJson = elapsed ? undefined : jsonTextOf(entry.value);
      if (valueJson !== undefined) return this.write(key, entry, valueJson);
      // Nothing is stored, and an older value must not outlive the write that replaced it.
      const removed: MaybePromise<boolean> = this.remove(key);
      const result = elapsed ? undefined : false;
      return removed instanceof Promise ? removed.then(() => result) : result;
    }) as Answer<M, SetResult>;
  }

  /** Removes the entry; true when one was there. */
  delete(key: string): Answer<M, boolean> {
    return this.#call('delete', () => this.remove(key)) as Answer<M, boolean>;
  }

  /** True when an unexpired entry is stored under key. */
  has(key: string): Answer<M, boolean> {
    return this.#call('has', () => this.contains(key)) as Answer<M, boolean>;
  }

  /** Removes this backend's entries (only options.namespace's, when given); returns how many went. */
  clear(options?: ScopeOptions): Answer<M, number> {
    return this.#call('clear', () => this.removeAll(scopePrefix(options))) as Answer<M, number>;
  }

  /** Entries, bytes and the like of this backend (only of options.namespace's entries, when given). */
  stats(options?: ScopeOptions): Answer<M, BackendStats> {
    return this.#call('stats', () => this.measure(scopePrefix(options))) as Answer<M, BackendStats>;
  }

  /** Releases the backend's resources; idempotent. Later calls fail with BackendClosedError. */
  close(): Answer<M, void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#closing = this.shutdown();
    }
    return this.#closing as Answer<M, void>;
  }

  /** True once close() was called. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /** Throws BackendClosedError for operation once the backend is closed (for a subclass's own methods). */
  protected assertOpen(operation: string): void {
    if (this.#closed) throw new BackendClosedError(this.name, operation);
  }

  #live(key: string, entry: CacheEntry | undefined, now: number): CacheEntry | undefined {
    if (entry === undefined || entry.expiresAt === null || entry.expiresAt > now) return entry;
    // Expired, but kept for stale-if-error: a miss here, and it stays for getStale.
    if (!isRetired(entry, now)) return undefined;
    try {
      const removed: MaybePromise<boolean> = this.remove(key);
      if (removed instanceof Promise) removed.catch(ignore);
    } catch {
      // Best effort: the entry is a miss either way, and the next set replaces it.
    }
    return undefined;
  }

  // One operation: the closed check, the work, and every failure given its context (thrown, or
  // rejected for an async backend).
  #call<R>(operation: string, work: () => MaybePromise<R>): MaybePromise<R> {
    let result: MaybePromise<R>;
    try {
      if (this.#closed) throw new BackendClosedError(this.name, operation);
      result = work();
    } catch (error) {
      return this.#fail(operation, error);
    }
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      throw this.#withContext(operation, error);
    });
  }

  // A failure before any promise exists: thrown, or rejected for an async backend.
  #fail(operation: string, error: unknown): Promise<never> {
    const failure = this.#withContext(operation, error);
    if (this.#rejects) return Promise.reject(failure);
    throw failure;
  }

  #withContext(operation: string, error: unknown): unknown {
    if (CacheDecodeError.isInstance(error) && error.backend === undefined) {
      return new CacheDecodeError(error.detail, { cause: error.cause, backend: this.name, operation });
    }
    if (TinyLLMError.isInstance(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new BackendError(this.name, operation, message, { cause: error });
  }
}

function scopePrefix(options: ScopeOptions | undefined): string | undefined {
  const namespace = options?.namespace;
  if (namespace === undefined) return undefined;
  assertNamespace(namespace, 'options.namespace');
  return `${namespace}:`;
}

/** What defineBackend() needs: the storage operations, in the contract's names (see BackendBase for what each receives). */
export interface BackendDefinition {
  /** Short name used in logs and errors. */
  name: string;
  /** What the backend can do. */
  capabilities: BackendCapabilities;
  /** The entry stored under key, or undefined; an expired one is dropped for you. */
  get(key: string, now: number): MaybePromise<CacheEntry | undefined>;
  /** Stores an unexpired entry whose value serialises to valueJson; false refuses it. */
  set(key: string, entry: CacheEntry, valueJson: string): MaybePromise<SetResult>;
  /** Removes the entry; true when one was there. */
  delete(key: string): MaybePromise<boolean>;
  /** Whether an unexpired entry is stored. @default get() and check the expiry */
  has?(key: string): MaybePromise<boolean>;
  /** Removes the entries whose key starts with keyPrefix (all when undefined); returns how many went. */
  clear(keyPrefix: string | undefined): MaybePromise<number>;
  /** Stats of the entries whose key starts with keyPrefix (all when undefined). */
  stats(keyPrefix: string | undefined): MaybePromise<BackendStats>;
  /** Releases resources; called once. @default nothing to release */
  close?(): MaybePromise<void>;
}

class DefinedBackend extends BackendBase<'either'> {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly #definition: BackendDefinition;

  constructor(definition: BackendDefinition) {
    super();
    this.name = definition.name;
    this.capabilities = definition.capabilities;
    this.#definition = definition;
  }
  protected read(key: string, now: number): MaybePromise<CacheEntry | undefined> {
    return this.#definition.get(key, now);
  }
  protected write(key: string, entry: CacheEntry, valueJson: string): MaybePromise<SetResult> {
    return this.#definition.set(key, entry, valueJson);
  }
  protected remove(key: string): MaybePromise<boolean> {
    return this.#definition.delete(key);
  }
  protected removeAll(keyPrefix: string | undefined): MaybePromise<number> {
    return this.#definition.clear(keyPrefix);
  }
  protected measure(keyPrefix: string | undefined): MaybePromise<BackendStats> {
    return this.#definition.stats(keyPrefix);
  }
  protected override contains(key: string): MaybePromise<boolean> {
    return this.#definition.has ? this.#definition.has(key) : super.contains(key);
  }
  protected override shutdown(): MaybePromise<void> {
    return this.#definition.close?.();
  }
}

/**
 * A complete CacheBackend from its storage operations: BackendBase supplies the closed state,
 * expiry, the JSON rule for values, a default has(), scoped clear/stats and errors that name the
 * backend and the operation. For a class of your own, extend BackendBase instead.
 */
export function defineBackend(definition: BackendDefinition): CacheBackend {
  return new DefinedBackend(definition);
}
