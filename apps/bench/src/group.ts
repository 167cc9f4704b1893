/**
 * What a benchmark group is. A group module (memory.ts, redis.ts, ...) is imported twice: by the
 * parent (run.ts) for `available`, `plan` and `summarize`, and by a child process (child.ts) for one
 * entry of `rows`. Heavy libraries are imported inside row functions only, so the parent and the
 * other rows never load (and never share optimised code with) a library they do not measure.
 */
import { createRequire } from 'node:module';
import type { Section } from './table.js';

/** Anything JSON-serialisable that a row sends back to the parent. */
export type RowResult = Record<string, unknown>;

/**
 * A row measured by the parent, round by round, interleaved with the group's other rows: each
 * row's child prepares once, then runs one timed round whenever the parent asks. Machine noise
 * (other jobs on a shared 2-vCPU box) then lands on every row alike instead of on whichever row
 * happened to run during it.
 */
export interface Runner {
  op: (i: number) => unknown;
  /** Operations in flight at once; default 1. */
  concurrency?: number;
  /** Sequential latency samples wanted (0 = none). */
  latencySamples: number;
  /** Awaited before each latency sample, outside its time: a row that times one operation alone, after the previous one's background work has finished. */
  settle?: () => Promise<unknown>;
  close?: () => unknown;
}

export const isRunner = (value: unknown): value is Runner => typeof value === 'object' && value !== null && typeof (value as Runner).op === 'function';

/** Settings the parent hands every child through the environment. */
export interface Context {
  quick: boolean;
  /** redis:// URL of the private redis-server the parent started, when the redis group runs. */
  redisUrl?: string;
}

export interface Group {
  name: string;
  /** Undefined when the group can run; otherwise why it is skipped (printed in the table). */
  available(): Promise<string | undefined>;
  /** Row ids to run, in order, each in its own child process. */
  plan(ctx: Context): string[];
  /** The child side: runs one row and returns its figures. */
  rows: Record<string, (ctx: Context) => Promise<RowResult | Runner>>;
  /** Turns every row's result into table sections (ratios, targets, notes). */
  summarize(results: Record<string, RowResult | { error: string }>, ctx: Context): Section[];
  /** Extra node flags for this group's children (e.g. --expose-gc is always on). */
  execArgv?: string[];
}

export function contextFromEnv(): Context {
  const ctx: Context = { quick: process.env.BENCH_QUICK === '1' };
  if (process.env.BENCH_REDIS_URL) ctx.redisUrl = process.env.BENCH_REDIS_URL;
  return ctx;
}

export const isError = (r: unknown): r is { error: string } => typeof r === 'object' && r !== null && 'error' in r;

/** Why a group cannot run: the first of the packages that does not resolve (not installed or not built), or undefined. */
export function unresolvable(...packages: string[]): string | undefined {
  const require = createRequire(import.meta.url);
  for (const name of packages) {
    try {
      require.resolve(name);
    } catch {
      return `${name} does not resolve (not built?)`;
    }
  }
  return undefined;
}
