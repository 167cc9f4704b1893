import type { CacheBackend } from './contract.js';
import { assertStaleTtl, assertTtl } from './create-entry.js';
import { InvalidOptionError } from './errors.js';
import { assertNamespace } from './keys.js';
import { type CacheLogger, silentLogger } from './logger.js';

/** What a hit saved upstream: time in ns and tokens. */
export interface Savings {
  /** Upstream time the hit avoided, in ns (Ollama's total_duration). */
  durationNs?: number;
  /** Tokens the hit avoided generating or reading (eval_count + prompt_eval_count). */
  tokens?: number;
}

/**
 * Every ResponseCache option but the backend. createMemoryCache, createRedisCache and
 * createSqliteCache take these next to their backend's options, so one shape configures a cache
 * on any backend.
 */
export interface CacheOptions<T = unknown> {
  /** TTL of entries set without one, in seconds (> 0, at most MAX_TTL_SECONDS); null = no expiry; 0 is refused (use noStore). @default 3600 */
  defaultTtl?: number | null;
  /**
   * Seconds an entry is kept past its TTL to be served, only when computing a fresh value fails
   * (stale-if-error; see GetOrSetOptions.staleIfError). 0 = off; > 0 and at most MAX_TTL_SECONDS
   * otherwise. Needs a backend that answers getStale (memory, SQLite, Redis). @default 0
   */
  staleIfErrorTtl?: number;
  /** Count hits, misses, sets, evictions, errors, coalesced calls and stale answers. @default true */
  enableMetrics?: boolean;
  /** Deadline of each get, set, delete and has call to the backend, in ms; past it the call is a miss or a skipped write and counts an error. @default 250 */
  timeoutMs?: number;
  /** Deadline of clear() and getStats(), which visit every entry, in ms. @default 20 × timeoutMs */
  bulkTimeoutMs?: number;
  /** A pino-compatible logger (debug/info/warn/error taking a context and a message). @default silent */
  logger?: CacheLogger;
  /** Tenant or app written in front of every key generateCacheKey derives. @default none */
  namespace?: string;
  /** Reads what a hit on a stored value saved (time, tokens), for getMetrics() and the store's counters. @default nothing counted */
  savingsOf?: (value: T) => Savings | undefined;
  /** Checks a stored value before it is served; a value that fails (a foreign or outdated format) is a miss plus an error. @default every value passes */
  validate?: (value: unknown) => boolean;
  /**
   * Cross-process single flight on a backend that offers leases (Redis, SQLite): of several
   * processes missing one key at once, one computes and the others wait for its entry. false turns
   * it off (single flight then holds within this process only). @default true
   */
  crossProcessFlight?: boolean;
  /** How long a cross-process lease lasts without renewal, in ms: the leader renews it every third of this while it computes, and a leader that died is replaced after at most this long. @default 5000 */
  leaseTtlMs?: number;
}

/** CacheOptions checked, with every default applied. */
export interface ResolvedCacheOptions<T> {
  defaultTtl: number | null;
  staleIfErrorTtl: number;
  enableMetrics: boolean;
  timeoutMs: number;
  bulkTimeoutMs: number;
  logger: CacheLogger;
  namespace: string | undefined;
  savingsOf: ((value: T) => Savings | undefined) | undefined;
  validate: ((value: unknown) => boolean) | undefined;
  crossProcessFlight: boolean;
  leaseTtlMs: number;
}

/** The names of CacheOptions (the factory options suite checks that it covers each one). */
export const CACHE_OPTION_NAMES = [
  'defaultTtl',
  'staleIfErrorTtl',
  'enableMetrics',
  'timeoutMs',
  'bulkTimeoutMs',
  'logger',
  'namespace',
  'savingsOf',
  'validate',
  'crossProcessFlight',
  'leaseTtlMs',
] as const;

// setTimeout's limit; a longer delay would fire at once.
const MAX_TIMER_MS = 2_147_483_647;
/** clear() and getStats() get this many deadlines unless bulkTimeoutMs says otherwise. */
const BULK_DEADLINES = 20;

function assertMs(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(option, value, `a number of milliseconds > 0 and <= ${MAX_TIMER_MS}`);
  }
}

function assertFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function');
}

/** Checks CacheOptions (InvalidOptionError names the first bad one) and applies the defaults. */
export function resolveCacheOptions<T>(options: CacheOptions<T>): ResolvedCacheOptions<T> {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an options object');
  const { defaultTtl = 3600, enableMetrics = true, timeoutMs = 250, logger = silentLogger } = options;
  assertTtl(defaultTtl, 'defaultTtl');
  const staleIfErrorTtl = options.staleIfErrorTtl === undefined ? 0 : options.staleIfErrorTtl;
  assertStaleTtl(staleIfErrorTtl, 'staleIfErrorTtl');
  assertMs('timeoutMs', timeoutMs);
  const bulkTimeoutMs = options.bulkTimeoutMs ?? Math.min(timeoutMs * BULK_DEADLINES, MAX_TIMER_MS);
  assertMs('bulkTimeoutMs', bulkTimeoutMs);
  if (typeof enableMetrics !== 'boolean') throw new InvalidOptionError('enableMetrics', enableMetrics, 'a boolean');
  const loggerOk =
    typeof logger === 'object' && logger !== null && (['debug', 'info', 'warn', 'error'] as const).every((level) => typeof logger[level] === 'function');
  if (!loggerOk) throw new InvalidOptionError('logger', logger, 'a pino-compatible logger with debug, info, warn and error methods');
  assertNamespace(options.namespace);
  assertFunction('savingsOf', options.savingsOf);
  assertFunction('validate', options.validate);
  const { crossProcessFlight = true, leaseTtlMs = 5000 } = options;
  if (typeof crossProcessFlight !== 'boolean') throw new InvalidOptionError('crossProcessFlight', crossProcessFlight, 'a boolean');
  if (typeof leaseTtlMs !== 'number' || !Number.isFinite(leaseTtlMs) || leaseTtlMs < 100 || leaseTtlMs > MAX_TIMER_MS) {
    throw new InvalidOptionError('leaseTtlMs', leaseTtlMs, `a number of milliseconds >= 100 and <= ${MAX_TIMER_MS}`);
  }
  return {
    defaultTtl,
    staleIfErrorTtl,
    enableMetrics,
    timeoutMs,
    bulkTimeoutMs,
    logger,
    namespace: options.namespace,
    savingsOf: options.savingsOf,
    validate: options.validate,
    crossProcessFlight,
    leaseTtlMs,
  };
}

/** True when value looks like a CacheBackend (the methods every backend has). */
export function isCacheBackend(value: unknown): value is CacheBackend {
  if (value === null || typeof value !== 'object') return false;
  const backend = value as Record<string, unknown>;
  return ['get', 'set', 'delete', 'has', 'clear', 'stats', 'close'].every((method) => typeof backend[method] === 'function');
}
