import { type CacheLogger, InvalidOptionError } from '@tinyllm/cache-core';

/** Default entry bound of one namespace. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Default byte bound of one namespace (256 MiB of encoded entries). */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Default time a write that matters waits for another process's lock before failing, in ms. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** Namespace used when none is given. */
export const DEFAULT_NAMESPACE = 'default';

/** Every default of SqliteBackend's options, in one place (the README's table lists the same). */
export const SQLITE_DEFAULTS = Object.freeze({
  maxEntries: DEFAULT_MAX_ENTRIES,
  maxBytes: DEFAULT_MAX_BYTES,
  busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS,
  namespace: DEFAULT_NAMESPACE,
});

/** Options of SqliteBackend. */
export interface SqliteBackendOptions {
  /** Database file; created with its directory when missing; a file that cannot be written is opened read-only. @default defaultCachePath() */
  path?: string;
  /** Scope of this backend's entries and counters inside the file; with createSqliteCache also written into the keys it derives. @default "default" */
  namespace?: string;
  /** Most entries kept in the namespace (integer >= 1); the least recently used go first. @default 10_000 */
  maxEntries?: number;
  /** Most bytes of encoded entries kept in the namespace (integer >= 1); a larger entry is refused. @default 268_435_456 (256 MiB) */
  maxBytes?: number;
  /** How long a write that matters (set, delete, clear, resetCounters) waits on another process's write lock before failing, in ms (integer >= 0); it blocks the event loop meanwhile. Also how long a lease acquire keeps trying (from a timer, not blocking). Reads never wait on it. @default 5_000 */
  busyTimeoutMs?: number;
  /** A pino-compatible logger. @default silent */
  logger?: CacheLogger;
}

/** SqliteBackendOptions with every default applied (path stays undefined until resolved). */
export interface ResolvedSqliteBackendOptions {
  /** See SqliteBackendOptions.path. */
  path: string | undefined;
  /** See SqliteBackendOptions.namespace. */
  namespace: string;
  /** See SqliteBackendOptions.maxEntries. */
  maxEntries: number;
  /** See SqliteBackendOptions.maxBytes. */
  maxBytes: number;
  /** See SqliteBackendOptions.busyTimeoutMs. */
  busyTimeoutMs: number;
  /** See SqliteBackendOptions.logger. */
  logger: CacheLogger | undefined;
}

function positiveInteger(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(option, value, `a finite integer >= ${min}`);
  }
  return value;
}

/** Validates options and fills in the defaults; a bad value throws InvalidOptionError naming the option. */
export function resolveSqliteOptions(options: SqliteBackendOptions = {}): ResolvedSqliteBackendOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const { path, namespace, logger } = options;
  if (path !== undefined && (typeof path !== 'string' || path.length === 0 || path.includes('\0'))) {
    throw new InvalidOptionError('path', path, 'a non-empty file path string');
  }
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length === 0)) {
    throw new InvalidOptionError('namespace', namespace, 'a non-empty string');
  }
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || logger === null || (['debug', 'info', 'warn', 'error'] as const).some((level) => typeof logger[level] !== 'function'))
  ) {
    throw new InvalidOptionError('logger', logger, 'a pino-compatible logger with debug, info, warn and error methods');
  }
  return {
    path,
    namespace: namespace ?? DEFAULT_NAMESPACE,
    maxEntries: positiveInteger('maxEntries', options.maxEntries, DEFAULT_MAX_ENTRIES, 1),
    maxBytes: positiveInteger('maxBytes', options.maxBytes, DEFAULT_MAX_BYTES, 1),
    busyTimeoutMs: positiveInteger('busyTimeoutMs', options.busyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS, 0),
    logger,
  };
}
