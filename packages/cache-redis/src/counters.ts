import type { CacheLogger, ModelCounters, SharedCounters } from '@tinyllm/cache-core';

/** The counter fields kept in the Redis hash. */
export const COUNTER_FIELDS = ['hits', 'misses', 'sets', 'errors', 'evictions', 'savedDurationNs', 'savedTokens', 'stale'] as const;

/** One counter field. */
export type CounterField = (typeof COUNTER_FIELDS)[number];
/** A value for every counter field. */
export type Counts = Record<CounterField, number>;

const zero = (): Counts => ({ hits: 0, misses: 0, sets: 0, errors: 0, evictions: 0, savedDurationNs: 0, savedTokens: 0, stale: 0 });

/** The per-model counter fields; in the hash as `m:<field>:<model>` (the model last, as it may hold ":"). */
export const MODEL_FIELDS = ['hits', 'misses', 'savedDurationNs', 'savedTokens'] as const;

/** The hash field of one model's counter. */
export const modelField = (field: (typeof MODEL_FIELDS)[number], model: string): string => `m:${field}:${model}`;

const MODEL_FIELD = /^m:(hits|misses|savedDurationNs|savedTokens):(.+)$/s;

const zeroModel = (): ModelCounters => ({ hits: 0, misses: 0, savedDurationNs: 0, savedTokens: 0 });

/** Turns an HGETALL reply into counters (missing or garbage fields count 0). */
export function parseCounters(hash: Record<string, string>): Counts {
  const counts = zero();
  for (const field of COUNTER_FIELDS) {
    const value = Number(hash[field]);
    if (Number.isFinite(value)) counts[field] = value;
  }
  return counts;
}

/** The per-model counters of an HGETALL reply. */
export function parseModelCounters(hash: Record<string, string>): Record<string, ModelCounters> {
  const byModel: Record<string, ModelCounters> = {};
  for (const [name, raw] of Object.entries(hash)) {
    const match = MODEL_FIELD.exec(name);
    const value = Number(raw);
    if (match === null || !Number.isFinite(value)) continue;
    const model = match[2] as string;
    const counts = byModel[model] ?? zeroModel();
    counts[match[1] as keyof ModelCounters] += value;
    byModel[model] = counts;
  }
  return byModel;
}

/** Adds extra's counts into into, model by model. */
export function addModelCounters(into: Record<string, ModelCounters>, extra: ReadonlyMap<string, ModelCounters>): Record<string, ModelCounters> {
  for (const [model, counts] of extra) {
    const total = into[model] ?? zeroModel();
    for (const field of MODEL_FIELDS) total[field] += counts[field];
    into[model] = total;
  }
  return into;
}

/**
 * Buffers counter deltas in memory and writes them with HINCRBY on a short unref'd timer, so the
 * hit path never waits for an extra round trip. Deltas stay buffered while the client is not ready
 * (they are a handful of numbers, so nothing grows) and go out once it is; a flush that fails after
 * being sent is dropped and logged (it may have been applied).
 */
export class CounterBuffer {
  #pending: Counts = zero();
  #models = new Map<string, ModelCounters>();
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly write: (deltas: Array<[string, number]>) => Promise<unknown>,
    private readonly canWrite: () => boolean,
    private readonly intervalMs: number,
    private readonly logger: CacheLogger,
  ) {}

  /** Adds a delta (its hits, misses and savings also to model's, when given); schedules a flush. Never waits, never throws. */
  add(delta: Partial<SharedCounters>, model?: string): void {
    if (this.#stopped) return;
    if (model !== undefined && (delta.hits || delta.misses)) {
      let counts = this.#models.get(model);
      if (counts === undefined) {
        counts = zeroModel();
        this.#models.set(model, counts);
      }
      for (const field of MODEL_FIELDS) {
        const value = delta[field];
        if (typeof value === 'number' && Number.isFinite(value)) counts[field] += value;
      }
    }
    for (const field of COUNTER_FIELDS) {
      const value = delta[field];
      if (typeof value === 'number' && Number.isFinite(value) && value !== 0) {
        this.#pending[field] += value;
        this.#dirty = true;
      }
    }
    if (this.#dirty && this.#timer === undefined) this.#schedule();
  }

  /** The deltas not written yet. */
  pending(): Counts {
    return { ...this.#pending };
  }

  /** The per-model deltas not written yet. */
  pendingModels(): ReadonlyMap<string, ModelCounters> {
    return this.#models;
  }

  /** Forgets the buffered deltas (resetCounters). */
  discard(): void {
    this.#pending = zero();
    this.#models = new Map();
    this.#dirty = false;
  }

  /** Writes the buffered deltas now (resolves when written or given up; never rejects). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#dirty) return;
    if (!this.canWrite()) {
      if (!this.#stopped) this.#schedule();
      return;
    }
    const deltas = COUNTER_FIELDS.filter((f) => this.#pending[f] !== 0).map((f): [string, number] => [f, Math.round(this.#pending[f])]);
    for (const [model, counts] of this.#models) {
      for (const field of MODEL_FIELDS) if (counts[field] !== 0) deltas.push([modelField(field, model), Math.round(counts[field])]);
    }
    this.discard();
    try {
      await this.write(deltas);
    } catch (error) {
      this.logger.warn({ backend: 'redis', event: 'counters_flush_failed', err: error }, 'redis: shared counters flush failed; these deltas are dropped');
    }
  }

  /** Stops the timer; later deltas are ignored. flush() still writes what is buffered. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.intervalMs);
    this.#timer.unref();
  }
}
