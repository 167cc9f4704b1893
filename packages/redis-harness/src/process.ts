import { type ChildProcess, spawn } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function unrefStream(stream: unknown): void {
  const handle = stream as { unref?: () => void } | null;
  handle?.unref?.();
}

/** A spawned child plus the recent output it printed (for error messages). */
export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Spawns a long-running child that dies with the test process: killed on 'exit', and, should this
 * process be SIGKILLed, by a one-line shell watchdog that waits for its stdin (our pipe) to close.
 */
export function spawnOwned(command: string, args: readonly string[]): Spawned {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Never keep the test process alive: the exit hook and the watchdog clean up.
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);
  live.add(child);
  let watchdog: ChildProcess | undefined;
  if (child.pid !== undefined) {
    watchdog = spawn('sh', ['-c', `read _ignored; kill -9 ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {});
    watchdog.stdin?.on('error', () => {});
    watchdog.unref();
    unrefStream(watchdog.stdin);
    live.add(watchdog);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      if (watchdog) {
        watchdog.kill('SIGKILL');
        live.delete(watchdog);
      }
      resolve(code);
    });
    child.once('error', (error) => {
      keep(Buffer.from(String(error)));
      live.delete(child);
      resolve(null);
    });
  });
  return { child, output: () => output, exited };
}

/** Sends signal and waits for the child to exit (SIGKILL after graceMs). */
export async function stopChild(spawned: Spawned, signal: NodeJS.Signals, graceMs = 5000): Promise<void> {
  if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  spawned.child.kill(signal);
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), graceMs);
  await spawned.exited;
  clearTimeout(timer);
}

/** Runs a command to completion and resolves with its output; rejects on a non-zero exit. */
export function run(command: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}
