import type { CacheLogger, SharedCounters } from '@tinyllm/cache-core';
import { BEST_EFFORT_BUSY_TIMEOUT_MS, CLOSE_FLUSH_BUSY_TIMEOUT_MS, isBusyError } from './lock.js';
import { COUNTER_COLUMNS, type CounterDelta, type ModelCounterDelta } from './statements.js';

/** First delay before retrying a counter flush that found the file locked, in ms; doubles up to COUNTER_RETRY_MAX_MS. */
const COUNTER_RETRY_MIN_MS = 50;
/** Longest delay between counter flush retries, in ms. */
const COUNTER_RETRY_MAX_MS = 1_000;

/** A counter delta as SharedCounters (what close() reports and the logs show). */
export function countersOf(delta: CounterDelta): SharedCounters {
  return {
    hits: delta.hits,
    misses: delta.misses,
    sets: delta.sets,
    errors: delta.errors,
    evictions: delta.evictions,
    savedDurationNs: delta.saved_duration_ns,
    savedTokens: delta.saved_tokens,
    stale: delta.stale,
  };
}

/** What a CounterBuffer needs from its backend. */
export interface CounterBufferOptions {
  /** The namespace the deltas belong to. */
  namespace: string;
  /** Writes a delta and its per-model deltas (in one transaction), waiting at most busyTimeoutMs for the write lock; throws like the driver. */
  write: (delta: CounterDelta, models: ReadonlyMap<string, ModelCounterDelta>, busyTimeoutMs: number) => void;
  /** The file cannot be written: deltas are only summed in memory, and close() reports them as dropped. */
  readOnly: boolean;
  /** Where failures are logged. */
  logger: CacheLogger;
  /** The file, for log messages. */
  path: string;
}

/**
 * The counter deltas a SqliteBackend records, on their way to the file. Each delta is written at once
 * when the write lock is free within BEST_EFFORT_BUSY_TIMEOUT_MS; while another process holds it, the
 * deltas are summed in memory and written by an unref'd retry timer (50 ms, backing off to 1 s), the
 * next delta after it, a read of the counters, or the final flush of close(), which waits at most
 * CLOSE_FLUSH_BUSY_TIMEOUT_MS and then reports what it dropped. Never throws.
 */
export class CounterBuffer {
  readonly #options: CounterBufferOptions;
  #pending: CounterDelta | undefined;
  // Per-model deltas, pending together with #pending (every model delta comes with a hit or a miss).
  #models = new Map<string, ModelCounterDelta>();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryMs = COUNTER_RETRY_MIN_MS;
  #stopped = false;

  constructor(options: CounterBufferOptions) {
    this.#options = options;
  }

  /** Adds a delta (its hits, misses and savings also to model's, when given) and writes it when the file is free (unless a retry is already waiting for the lock). */
  add(delta: Partial<SharedCounters>, model?: string): void {
    if (this.#stopped) return;
    const params: CounterDelta = {
      ns: this.#options.namespace,
      hits: delta.hits ?? 0,
      misses: delta.misses ?? 0,
      sets: delta.sets ?? 0,
      errors: delta.errors ?? 0,
      evictions: 0,
      saved_duration_ns: delta.savedDurationNs ?? 0,
      saved_tokens: delta.savedTokens ?? 0,
      stale: delta.stale ?? 0,
    };
    if (COUNTER_COLUMNS.every((column) => params[column] === 0)) return;
    if (model !== undefined && (params.hits !== 0 || params.misses !== 0)) {
      const counts = this.#models.get(model) ?? { hits: 0, misses: 0, saved_duration_ns: 0, saved_tokens: 0 };
      counts.hits += params.hits;
      counts.misses += params.misses;
      counts.saved_duration_ns += params.saved_duration_ns;
      counts.saved_tokens += params.saved_tokens;
      this.#models.set(model, counts);
    }
    const pending = this.#pending;
    if (pending === undefined) this.#pending = params;
    else for (const column of COUNTER_COLUMNS) pending[column] += params[column];
    // While a retry is scheduled the file was locked a moment ago: only add up, so a long lock costs
    // one short wait per retry rather than one per call.
    if (this.#retry === undefined) this.flush();
  }

  /** The deltas not in the file yet. */
  pending(): CounterDelta | undefined {
    return this.#pending;
  }

  /** The per-model deltas not in the file yet. */
  pendingModels(): ReadonlyMap<string, ModelCounterDelta> {
    return this.#models;
  }

  /** Forgets the deltas not written yet (resetCounters). */
  discard(): void {
    this.#pending = undefined;
    this.#models.clear();
    this.#cancelRetry();
    this.#retryMs = COUNTER_RETRY_MIN_MS;
  }

  /** Writes the pending deltas now, waiting at most BEST_EFFORT_BUSY_TIMEOUT_MS; a locked file schedules a retry. */
  flush(): void {
    const pending = this.#pending;
    if (pending === undefined || this.#options.readOnly || this.#stopped) return;
    this.#cancelRetry();
    try {
      this.#options.write(pending, this.#models, BEST_EFFORT_BUSY_TIMEOUT_MS);
      this.#written();
    } catch (error) {
      if (isBusyError(error)) {
        this.#options.logger.debug(
          { backend: 'sqlite', retryInMs: this.#retryMs, err: error },
          'sqlite: the file is locked by another process; counters kept in memory, retrying later',
        );
        this.#scheduleRetry();
        return;
      }
      this.#pending = undefined;
      this.#models.clear();
      this.#options.logger.error({ backend: 'sqlite', lost: countersOf(pending), err: error }, 'sqlite: recording counters failed');
    }
  }

  /**
   * Writes the pending deltas now, waiting up to busyMs for another process's lock; true when
   * nothing is left pending. For a process that can afford to wait before it stops.
   */
  flushWaiting(busyMs: number): boolean {
    const pending = this.#pending;
    if (pending === undefined) return true;
    if (this.#options.readOnly || this.#stopped) return false;
    this.#cancelRetry();
    try {
      this.#options.write(pending, this.#models, busyMs);
      this.#written();
      return true;
    } catch (error) {
      if (isBusyError(error)) {
        this.#scheduleRetry();
        return false;
      }
      this.#pending = undefined;
      this.#models.clear();
      this.#options.logger.error({ backend: 'sqlite', lost: countersOf(pending), err: error }, 'sqlite: recording counters failed');
      return false;
    }
  }

  /**
   * The last flush, at close: waits at most CLOSE_FLUSH_BUSY_TIMEOUT_MS for the lock, stops the
   * buffer, and returns the counts it could not write (undefined when everything reached the file).
   */
  finish(): SharedCounters | undefined {
    this.#stopped = true;
    this.#cancelRetry();
    const pending = this.#pending;
    const models = this.#models;
    this.#pending = undefined;
    this.#models = new Map();
    if (pending === undefined) return undefined;
    const { logger, path } = this.#options;
    if (this.#options.readOnly) {
      logger.info({ backend: 'sqlite', lost: countersOf(pending) }, `sqlite: ${path} is read-only; this process's counts were not recorded`);
      return countersOf(pending);
    }
    try {
      this.#options.write(pending, models, CLOSE_FLUSH_BUSY_TIMEOUT_MS);
      return undefined;
    } catch (error) {
      const reason = isBusyError(error) ? `the file stayed locked by another process for ${CLOSE_FLUSH_BUSY_TIMEOUT_MS} ms` : (error as Error).message;
      logger.warn({ backend: 'sqlite', lost: countersOf(pending), err: error }, `sqlite: ${reason}; this process's counts were not recorded`);
      return countersOf(pending);
    }
  }

  #written(): void {
    this.#pending = undefined;
    this.#models.clear();
    this.#retryMs = COUNTER_RETRY_MIN_MS;
  }

  #scheduleRetry(): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(delay * 2, COUNTER_RETRY_MAX_MS);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.flush();
    }, delay);
    // A retry never keeps the process alive: close() flushes what is still pending.
    this.#retry.unref();
  }

  #cancelRetry(): void {
    if (this.#retry === undefined) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }
}
