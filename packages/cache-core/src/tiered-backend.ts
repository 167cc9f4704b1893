import { BackendBase } from './backend-base.js';
import type { BackendCapabilities, BackendStats, CacheBackend, CacheLeases, MaybePromise, ScopeOptions, SharedCounters } from './contract.js';
import { withDeadline } from './deadline.js';
import type { CacheEntry } from './entry.js';
import { InvalidOptionError } from './errors.js';
import { type CacheLogger, keyForLog, silentLogger } from './logger.js';

/** Options of createTieredCache. */
export interface TieredBackendOptions {
  /** Deadline of each tier's operation, in ms; a tier past it is skipped for that call. @default 200 */
  tierTimeoutMs?: number;
  /** A pino-compatible logger for skipped tiers. @default silent */
  logger?: CacheLogger;
}

/** clear() and stats() visit every entry of a tier: they get this many tier deadlines. */
const BULK_DEADLINES = 20;

// BackendBase hands scoped calls a key prefix (`namespace:`); the tiers take the namespace back.
const scopeOf = (keyPrefix: string | undefined): ScopeOptions | undefined => (keyPrefix === undefined ? undefined : { namespace: keyPrefix.slice(0, -1) });

/**
 * Several backends as one, fastest first (for example memory, then Redis). Reads try each tier
 * in order and a hit in a slower tier fills the faster ones; writes, deletes and clears go to
 * every tier; a failing or slow tier is skipped and logged. The call fails only when every tier
 * failed, so the ResponseCache above counts an error only then.
 *
 * Coherency: a fast in-process tier is not told about another process's writes, so the tiered
 * backend does not claim `shared`; keep the fast tier's bounds small or its TTLs short.
 */
export class TieredBackend extends BackendBase<'async'> {
  /** "tiered(memory+redis)" and the like. */
  readonly name: string;
  /** persistent/network when any tier is; evicts only as a single evicting tier (slower tiers keep what a fast one drops). */
  readonly capabilities: BackendCapabilities;
  /** The tiers, fastest first. */
  readonly tiers: readonly CacheBackend[];
  readonly #timeoutMs: number;
  readonly #logger: CacheLogger;

  constructor(tiers: readonly CacheBackend[], options: TieredBackendOptions = {}) {
    super('async');
    if (!Array.isArray(tiers) || tiers.length === 0) throw new InvalidOptionError('tiers', tiers, 'a non-empty array of backends');
    const { tierTimeoutMs = 200 } = options;
    if (!Number.isFinite(tierTimeoutMs) || tierTimeoutMs <= 0) throw new InvalidOptionError('tierTimeoutMs', tierTimeoutMs, 'a number of milliseconds > 0');
    this.tiers = [...tiers];
    this.name = `tiered(${tiers.map((tier) => tier.name).join('+')})`;
    this.capabilities = {
      evicts: tiers[0]?.capabilities.evicts === true && tiers.length === 1,
      persistent: tiers.some((tier) => tier.capabilities.persistent),
      network: tiers.some((tier) => tier.capabilities.network),
      staleIfError: tiers.some((tier) => tier.capabilities.staleIfError === true && typeof tier.getStale === 'function'),
    };
    this.#timeoutMs = tierTimeoutMs;
    this.#logger = options.logger ?? silentLogger;
    const counters = tiers.find((tier) => tier.readCounters !== undefined);
    if (counters) {
      this.readCounters = async () => (counters.readCounters as () => MaybePromise<SharedCounters>).call(counters);
      this.recordCounters = (delta) => counters.recordCounters?.(delta);
      if (counters.resetCounters) this.resetCounters = () => counters.resetCounters?.();
    }
    // The lease lives in the shared tier; a waiter's read after the release finds the entry there
    // (the fast tier missed it) and fills the fast tier.
    this.leases = tiers.find((tier) => tier.leases !== undefined)?.leases;
  }

  /** Cross-process single flight: the leases of the first tier that offers them (e.g. Redis behind memory). */
  readonly leases?: CacheLeases;
  /** Reads counters from the first tier that keeps them. */
  readCounters?: () => Promise<SharedCounters>;
  /** Records counters in the first tier that keeps them. */
  recordCounters?: (delta: Partial<SharedCounters>) => void;
  /** Resets counters in the first tier that keeps them. */
  resetCounters?: () => MaybePromise<void>;

  /** Eviction events of every tier. */
  onEviction(listener: (key: string) => void): void {
    for (const tier of this.tiers) tier.onEviction?.(listener);
  }

  // The first tier's entry that is there; slower tiers' hits fill the faster tiers.
  protected async read(key: string): Promise<CacheEntry | undefined> {
    let failures = 0;
    let lastError: unknown;
    for (let i = 0; i < this.tiers.length; i++) {
      const tier = this.tiers[i] as CacheBackend;
      let entry: CacheEntry | undefined;
      try {
        entry = await this.#call(tier, 'get', () => tier.get(key));
      } catch (error) {
        failures++;
        lastError = error;
        this.#skipped(tier, 'get', key, error);
        continue;
      }
      if (entry === undefined) continue;
      // Fill the faster tiers in the background: the caller does not wait for them.
      for (let j = 0; j < i; j++) {
        const faster = this.tiers[j] as CacheBackend;
        void this.#call(faster, 'set', () => faster.set(key, entry)).catch((error: unknown) => this.#skipped(faster, 'fill', key, error));
      }
      return entry;
    }
    if (failures === this.tiers.length) throw lastError;
    return undefined;
  }

  // stale-if-error: the first tier that still keeps the entry (nothing is filled from it).
  protected override async readStale(key: string): Promise<CacheEntry | undefined> {
    for (const tier of this.tiers) {
      const getStale = tier.getStale;
      if (getStale === undefined) continue;
      try {
        const entry = await this.#call(tier, 'getStale', () => getStale.call(tier, key));
        if (entry !== undefined) return entry;
      } catch (error) {
        this.#skipped(tier, 'getStale', key, error);
      }
    }
    return undefined;
  }

  // Every tier; fails only when every tier failed, refuses only when every tier refused.
  protected async write(key: string, entry: CacheEntry): Promise<false | undefined> {
    const results = await this.#all('set', key, (tier) => tier.set(key, entry));
    return results.some((stored) => stored !== false) ? undefined : false;
  }

  protected async remove(key: string): Promise<boolean> {
    return (await this.#all('delete', key, (tier) => tier.delete(key))).some(Boolean);
  }

  protected override async contains(key: string): Promise<boolean> {
    return (await this.#all('has', key, (tier) => tier.has(key))).some(Boolean);
  }

  // The largest count: the tiers hold copies of one set of entries.
  protected async removeAll(keyPrefix: string | undefined): Promise<number> {
    const scope = scopeOf(keyPrefix);
    return Math.max(0, ...(await this.#all('clear', '', (tier) => tier.clear(scope), this.#timeoutMs * BULK_DEADLINES)));
  }

  // The stats of the slowest tier that answers (the most complete one).
  protected async measure(keyPrefix: string | undefined): Promise<BackendStats> {
    const scope = scopeOf(keyPrefix);
    const answers = await Promise.allSettled(this.tiers.map((tier) => this.#call(tier, 'stats', () => tier.stats(scope), this.#timeoutMs * BULK_DEADLINES)));
    for (let i = answers.length - 1; i >= 0; i--) {
      const answer = answers[i];
      if (answer?.status === 'fulfilled') return answer.value;
    }
    throw (answers[0] as PromiseRejectedResult).reason;
  }

  protected override async shutdown(): Promise<void> {
    await Promise.allSettled(this.tiers.map((tier) => tier.close()));
  }

  async #all<R>(operation: string, key: string, call: (tier: CacheBackend) => MaybePromise<R>, timeoutMs = this.#timeoutMs): Promise<R[]> {
    const answers = await Promise.allSettled(this.tiers.map((tier) => this.#call(tier, operation, () => call(tier), timeoutMs)));
    const results: R[] = [];
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled') results.push(answer.value);
      else this.#skipped(this.tiers[i] as CacheBackend, operation, key, answer.reason);
    });
    if (results.length === 0) throw (answers[0] as PromiseRejectedResult).reason;
    return results;
  }

  async #call<R>(tier: CacheBackend, operation: string, call: () => MaybePromise<R>, timeoutMs = this.#timeoutMs): Promise<R> {
    return withDeadline(call(), timeoutMs, tier.name, operation);
  }

  #skipped(tier: CacheBackend, operation: string, key: string, error: unknown): void {
    this.#logger.error(
      { event: 'tier_error', tier: tier.name, operation, ...(key ? { key: keyForLog(key) } : {}), err: error },
      `cache tier ${tier.name} skipped`,
    );
  }
}

/** A backend over several tiers, fastest first: for example createTieredCache([memory, redis]). Wrap it in a ResponseCache. */
export function createTieredCache(tiers: readonly CacheBackend[], options?: TieredBackendOptions): TieredBackend {
  return new TieredBackend(tiers, options);
}
