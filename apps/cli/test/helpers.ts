import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeOllamaOptions, type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll } from 'vitest';

/** The built command under test (tests run it as a child process, like a user would). */
export const BIN = fileURLToPath(new URL('../dist/tinyllm.js', import.meta.url));

/** Fails clearly when the command has not been built. */
export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (cd apps/cli && npx tsup)`);
}

/** What one run of the command produced. */
export interface CliResult {
  /** Exit code. */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of runCli. */
export interface RunCliOptions {
  /** Extra environment (over the clean base). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is always a pipe, never a terminal). */
  input?: string | Buffer;
  /** Keep stdin open (nothing written) until the child exits, like a user who has not answered yet. */
  holdStdin?: boolean;
  /** Kill the child after this long. Default 20 s. */
  timeoutMs?: number;
  /** Sends `signal` to the child once `when` holds for what it wrote so far (checked on every write and every 20 ms). */
  interrupt?: { signal: NodeJS.Signals; when: (output: { stdout: string; stderr: string }) => boolean };
}

/** The parent's environment without anything that would configure the command. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('TINYLLM_') || key === 'OLLAMA_HOST' || key === 'NO_COLOR' || key === 'FORCE_COLOR') continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  return env;
}

/** Runs `node dist/tinyllm.js ...args` asynchronously (the fake Ollama lives in this process, so never spawnSync). */
export async function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await spawnCli(args, options, undefined);
  return { code, stdout, stderr };
}

// The one child-process runner: collects stdout and stderr, kills the child after timeoutMs and,
// when closeStdoutAfter is set, destroys its stdout once that many characters arrived (like `| head -c N`).
function spawnCli(args: readonly string[], options: RunCliOptions, closeStdoutAfter: number | undefined): Promise<ClosedStdoutResult> {
  const env: Record<string, string> = cleanEnv();
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let closedAt: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (closedAt !== undefined) return;
      stdout += chunk;
      if (closeStdoutAfter !== undefined && stdout.length >= closeStdoutAfter) {
        closedAt = performance.now();
        child.stdout.destroy();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    const interrupt = options.interrupt;
    let poll: ReturnType<typeof setInterval> | undefined;
    if (interrupt !== undefined) {
      poll = setInterval(() => {
        if (!interrupt.when({ stdout, stderr })) return;
        clearInterval(poll);
        child.kill(interrupt.signal);
      }, 20);
    }
    child.on('error', (error) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, stdout, stderr, exitMsAfterClose: closedAt === undefined ? Number.NaN : performance.now() - closedAt });
    });
    child.stdin.on('error', () => {});
    if (options.holdStdin) return;
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs the command on a real terminal (a pseudo-terminal from util-linux `script`), typing `keys`
 * once its stderr or stdout shows `after`. Resolves the exit code and everything the terminal showed.
 */
export function runCliOnTerminal(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; after: string; keys: string; timeoutMs?: number },
): Promise<{ code: number | null; screen: string }> {
  const env: Record<string, string> = cleanEnv();
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;
  const commandLine = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    // -q quiet, -e the child's exit code, -f flush at once, -c the command; no typescript file.
    const child = spawn('script', ['-qefc', commandLine, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let typed = false;
    const onData = (chunk: string): void => {
      screen += chunk;
      if (!typed && screen.includes(options.after)) {
        typed = true;
        child.stdin.write(options.keys);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'tinyllm-cli-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Environment that points the command at a fake Ollama and a private SQLite file. */
export function envFor(ollamaUrl: string, sqlitePath: string): Record<string, string> {
  return { TINYLLM_OLLAMA_HOST: ollamaUrl, TINYLLM_SQLITE_PATH: sqlitePath };
}

/** What runCliClosingStdout saw. */
export interface ClosedStdoutResult extends CliResult {
  /** Milliseconds from closing stdout to the child's exit. */
  exitMsAfterClose: number;
}

/**
 * Runs the command and closes its stdout (like `| head -c N`) once `afterBytes` bytes have arrived:
 * the command's later writes to stdout fail with EPIPE. `stdout` holds what arrived before the close.
 */
export function runCliClosingStdout(args: readonly string[], options: RunCliOptions & { afterBytes?: number } = {}): Promise<ClosedStdoutResult> {
  return spawnCli(args, options, options.afterBytes ?? 1);
}

/** What useCliFixture gives a test file. */
export interface CliFixture {
  /** The fake Ollama the file's commands talk to. */
  readonly fake: FakeOllamaServer;
  /** A temporary directory for the file's SQLite files. */
  readonly dir: string;
}

/**
 * The setup every command-test file shares: checks the binary is built, starts a fake Ollama and
 * makes a temporary directory before the file's tests, and removes both after them.
 */
export function useCliFixture(options: FakeOllamaOptions = {}): CliFixture {
  let fake: FakeOllamaServer | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeOllama(options);
    dir = tempDir();
  });
  afterAll(async () => {
    await fake?.close();
    dir?.cleanup();
  });
  return {
    get fake(): FakeOllamaServer {
      if (!fake) throw new Error('useCliFixture: the fake Ollama is not started yet (use it inside tests or hooks)');
      return fake;
    },
    get dir(): string {
      if (!dir) throw new Error('useCliFixture: the directory is not made yet (use it inside tests or hooks)');
      return dir.path;
    },
  };
}
