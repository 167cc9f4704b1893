/**
 * A private, throwaway redis-server for the redis group. Never the shared one on 6379, never
 * FLUSHALL/FLUSHDB: we start our own on a free port and stop it after. Uses
 * @tinyllm/redis-harness when it resolves; otherwise spawns redis-server directly.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function spawnOwn(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  try {
    const harness = (await import('@tinyllm/redis-harness')) as {
      startRedisServer?: (o: { extraArgs?: string[] }) => Promise<{ url: string; external: boolean; stop(): Promise<void> }>;
    };
    if (typeof harness.startRedisServer === 'function') {
      // extraArgs (even empty) makes the harness ignore REDIS_URL and always spawn a private server.
      const handle = await harness.startRedisServer({ extraArgs: [] });
      if (!handle.external) return handle;
      await handle.stop();
    }
  } catch (error) {
    console.error(
      `[bench] redis-harness unavailable (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); spawning redis-server directly`,
    );
  }
  return spawnOwn();
}
