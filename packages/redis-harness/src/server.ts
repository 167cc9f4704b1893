import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, INSTALL_MESSAGE } from './locate.js';
import { unusedPort } from './ports.js';
import { type Spawned, spawnOwned, stopChild } from './process.js';
import { sendCommand } from './resp.js';

/** A throwaway redis-server process (or the one REDIS_URL names). */
export interface RedisServerHandle {
  /** redis://[:password@]host:port */
  url: string;
  host: string;
  port: number;
  /** True when the server came from REDIS_URL: stop() is a no-op and kill/restart/start/pause/resume throw. */
  external: boolean;
  /** Stops the server (SIGTERM) and removes its directory; idempotent (start() may bring it back). */
  stop(): Promise<void>;
  /** Stops and starts the server again on the same port. */
  restart(): Promise<void>;
  /** SIGKILLs the server (for fault tests); start() brings it back on the same port. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after stop() or kill(); no-op while it runs. */
  start(): Promise<void>;
  /** SIGSTOPs the server: connections stay open and nothing answers (a hung Redis). */
  pause(): Promise<void>;
  /** SIGCONTs a paused server. */
  resume(): Promise<void>;
}

/** Options of startRedisServer. */
export interface RedisServerOptions {
  /** requirepass for the server (clients must AUTH). */
  password?: string;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  extraArgs?: string[];
  /** Always spawn a local server, ignoring REDIS_URL (fault tests that kill or pause it). */
  local?: boolean;
}

const HOST = '127.0.0.1';

/** Waits until PING answers PONG (any error reply, e.g. NOAUTH, also proves the server is up). */
export async function waitForPing(host: string, port: number, spawned: Spawned | undefined, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (spawned && (spawned.child.exitCode !== null || spawned.child.signalCode !== null)) {
      throw new Error(`redis-server on port ${port} exited: ${spawned.output()}`);
    }
    try {
      await sendCommand(host, port, ['PING'], { timeoutMs: 500 });
      return;
    } catch (error) {
      if (error instanceof Error && /NOAUTH|AUTH/.test(error.message)) return;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on ${host}:${port} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Builds the redis-server argument list for one throwaway node. */
export function serverArgs(port: number, dir: string, extra: readonly string[] = []): string[] {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, ...extra];
}

/**
 * Spawns redis-server on port (or on a fresh free port, retried when another process grabbed it
 * first) and waits for PING. Returns the process and the port it listens on.
 */
export async function spawnServer(bin: string, args: (port: number) => string[], port?: number): Promise<{ spawned: Spawned; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const chosen = port ?? (await unusedPort());
    const spawned = spawnOwned(bin, args(chosen));
    try {
      await waitForPing(HOST, chosen, spawned);
      return { spawned, port: chosen };
    } catch (error) {
      lastError = error;
      await stopChild(spawned, 'SIGKILL');
      const inUse = /already in use|EADDRINUSE/i.test(spawned.output());
      if (!inUse) break;
      if (port !== undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function externalHandle(url: string): RedisServerHandle {
  const parsed = new URL(url);
  const unsupported = async (): Promise<never> => {
    throw new Error('redis-harness: this server comes from REDIS_URL; it cannot be killed or restarted');
  };
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    external: true,
    stop: async () => {},
    pause: unsupported,
    resume: unsupported,
    restart: unsupported,
    kill: unsupported,
    start: unsupported,
  };
}

/**
 * Starts a throwaway redis-server on a free loopback port (no persistence, own temp dir) and waits
 * until it answers. With REDIS_URL set (and no password, extraArgs or local asked for) that server
 * is used instead; tests must then use a unique key prefix.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv && !options.local && options.password === undefined && options.extraArgs === undefined) return externalHandle(fromEnv);
  const bin = findRedisServer();
  if (!bin) throw new Error(INSTALL_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'tinyllm-redis-'));
  const extra = [...(options.password === undefined ? [] : ['--requirepass', options.password]), ...(options.extraArgs ?? [])];
  const build = (port: number): string[] => serverArgs(port, dir, extra);
  const first = await spawnServer(bin, build);
  let spawned: Spawned | undefined = first.spawned;
  const port = first.port;
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = spawned;
    spawned = undefined;
    if (!current) return;
    const stopping = stopChild(current, signal);
    current.child.kill('SIGCONT'); // a paused server handles SIGTERM only once continued
    await stopping;
  };
  const handle: RedisServerHandle = {
    url: `redis://${auth}${HOST}:${port}`,
    host: HOST,
    port,
    external: false,
    async start() {
      if (spawned) return;
      mkdirSync(dir, { recursive: true });
      spawned = (await spawnServer(bin, build, port)).spawned;
    },
    async pause() {
      spawned?.child.kill('SIGSTOP');
    },
    async resume() {
      spawned?.child.kill('SIGCONT');
    },
    async kill() {
      await halt('SIGKILL');
    },
    async restart() {
      await halt('SIGTERM');
      await handle.start();
    },
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
