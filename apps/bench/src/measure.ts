/**
 * Measurement primitives shared by every row: warmup, several timed rounds, median ops/s with the
 * spread, and per-operation latency percentiles. Every row goes through the same loop (an
 * `await` per operation, even for synchronous floors) so the harness cost is identical.
 */
import { performance } from 'node:perf_hooks';

export type Op = (i: number) => unknown;

export interface MeasureOptions {
  /** Time spent running the operation before any round counts (lets V8 optimise it). */
  warmupMs: number;
  /** Timed rounds; the median is reported, min and max as the spread. */
  rounds: number;
  /** Length of one round. */
  roundMs: number;
  /** Operations in flight at once (1 = sequential). */
  concurrency?: number;
}

export interface Throughput {
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** Slowest and fastest round, ops/s. */
  min: number;
  max: number;
  rounds: number;
}

export interface Latency {
  /** Microseconds per operation. */
  p50Us: number;
  p99Us: number;
  samples: number;
}

/** Read when used, not at import: the parent sets BENCH_QUICK after parsing its arguments. */
export const isQuick = (): boolean => process.env.BENCH_QUICK === '1';

/** Default settings; --quick shortens everything (the numbers get noisier, never different in kind). */
export function defaults(overrides: Partial<MeasureOptions> = {}): MeasureOptions {
  const base = isQuick() ? { warmupMs: 300, rounds: 3, roundMs: 250 } : { warmupMs: 1000, rounds: 7, roundMs: 400 };
  return { ...base, ...overrides };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

// One round: `concurrency` workers each loop `await op(i)` until the deadline. The clock is read
// every 16 operations so reading it costs the fast rows < 1%.
export async function round(op: Op, ms: number, concurrency: number, start: number): Promise<{ ops: number; seconds: number; next: number }> {
  let next = start;
  let ops = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  const worker = async (): Promise<void> => {
    for (;;) {
      for (let k = 0; k < 16; k++) {
        await op(next++);
        ops++;
      }
      if (performance.now() >= end) return;
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < concurrency; w++) workers.push(worker());
  await Promise.all(workers);
  return { ops, seconds: (performance.now() - t0) / 1000, next };
}

/** Median ops/s of `op(i)` (i counts up; rows use i % 1000 to pick the request). */
export async function throughput(op: Op, options: MeasureOptions = defaults()): Promise<Throughput> {
  const concurrency = options.concurrency ?? 1;
  let i = (await round(op, options.warmupMs, concurrency, 0)).next;
  const rates: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    // A collection between rounds keeps one round's garbage from landing in the next one's timing.
    globalThis.gc?.();
    const result = await round(op, options.roundMs, concurrency, i);
    i = result.next;
    rates.push(result.ops / result.seconds);
  }
  return { opsPerSec: median(rates), min: Math.min(...rates), max: Math.max(...rates), rounds: rates.length };
}

/** Microseconds of each of `samples` sequential calls of `op`, starting at index `start`; `settle`, when given, is awaited (untimed) before each call. */
export async function latencySamples(op: Op, samples: number, start = 0, settle?: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = new Array(samples);
  for (let i = 0; i < samples; i++) {
    if (settle !== undefined) await settle();
    const t0 = process.hrtime.bigint();
    await op(start + i);
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return times;
}

export function summarizeLatency(times: readonly number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), samples: sorted.length };
}

/** Per-operation latency of `op`, one at a time (timer overhead, ~0.1 us, is in every row alike). */
export async function latency(op: Op, samples: number, warmup = Math.min(samples, 2000)): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await op(i);
  return summarizeLatency(await latencySamples(op, samples));
}
