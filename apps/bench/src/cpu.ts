/**
 * CPU pinning for the Redis rows (taskset, where present): the client children on the first CPU,
 * redis-server on the last, so the two never share or swap a core mid-measurement.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const cpus = availableParallelism();

/** The CPU the measuring child runs on, or undefined when pinning is not possible. */
export const CLIENT_CPU: number | undefined = cpus >= 2 ? 0 : undefined;
/** The CPU redis-server runs on, or undefined when pinning is not possible. */
export const SERVER_CPU: number | undefined = cpus >= 2 ? cpus - 1 : undefined;

/** Pins a process to one CPU; does nothing (and says so once) where taskset is missing. */
export function pinToCpu(pid: number, cpu: number | undefined): void {
  if (cpu === undefined) return;
  try {
    execFileSync('taskset', ['-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    if (!warned) console.error('[bench] taskset not available: processes are not pinned, so latency rows are noisier');
    warned = true;
  }
}
let warned = false;

/** Lets a process run on every CPU again (undoes pinToCpu). */
export function unpin(pid: number): void {
  if (cpus < 2) return;
  try {
    execFileSync('taskset', ['-cp', `0-${cpus - 1}`, String(pid)], { stdio: 'ignore' });
  } catch {
    // Nothing was pinned without taskset either.
  }
}
