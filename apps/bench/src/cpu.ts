/**
 * CPU pinning (taskset, where present): clients on the first CPU, servers on the last, so the two
 * never share or swap a core mid-measurement. A process is pinned with all its threads (`taskset
 * -a`): pinning only its main thread left V8's GC helpers and libuv's pool free to run on the
 * other CPU, so a process borrowed the CPU of whatever ran there (a direct upload's fake Ollama
 * ran its GC on the CPU the proxy had, when idle, and direct uploads swung between 400 and 750 MB/s).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const cpus = availableParallelism();

/** The CPU the measuring child runs on, or undefined when pinning is not possible. */
export const CLIENT_CPU: number | undefined = cpus >= 2 ? 0 : undefined;
/** The CPU redis-server runs on, or undefined when pinning is not possible. */
export const SERVER_CPU: number | undefined = cpus >= 2 ? cpus - 1 : undefined;

/** Pins a process, every thread of it, to one CPU; does nothing (and says so once) where taskset is missing. */
export function pinToCpu(pid: number, cpu: number | undefined): void {
  if (cpu === undefined) return;
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    if (!warned) console.error('[bench] taskset not available: processes are not pinned, so latency rows are noisier');
    warned = true;
  }
}
let warned = false;

/** Lets a process, every thread of it, run on every CPU again (undoes pinToCpu). */
export function unpin(pid: number): void {
  if (cpus < 2) return;
  try {
    execFileSync('taskset', ['-a', '-cp', `0-${cpus - 1}`, String(pid)], { stdio: 'ignore' });
  } catch {
    // Nothing was pinned without taskset either.
  }
}
