import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, INSTALL_MESSAGE } from './locate.js';
import { type Spawned, stopChild } from './process.js';
import { sendCommand } from './resp.js';
import { spawnServer } from './server.js';

/** A throwaway Redis Sentinel watching one master. */
export interface RedisSentinelHandle {
  host: string;
  port: number;
  /** Name of the monitored master. */
  name: string;
  /** Stops the sentinel and removes its directory; idempotent. */
  stop(): Promise<void>;
}

/** Options of startRedisSentinel. */
export interface RedisSentinelOptions {
  /** Name the master is monitored under. Default "mymaster". */
  name?: string;
}

/** Starts `redis-server --sentinel` on a free loopback port, monitoring master, and waits until it reports the master's address. */
export async function startRedisSentinel(master: { host: string; port: number }, options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? 'mymaster';
  const bin = findRedisServer();
  if (!bin) throw new Error(INSTALL_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'tinyllm-redis-sentinel-'));
  const args = (port: number): string[] => {
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} ${master.host} ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 2000`,
        '',
      ].join('\n'),
    );
    return [conf, '--sentinel'];
  };
  let spawned: Spawned | undefined;
  try {
    const started = await spawnServer(bin, args);
    spawned = started.spawned;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = await sendCommand('127.0.0.1', started.port, ['SENTINEL', 'get-master-addr-by-name', name]);
      if (Array.isArray(reply) && reply[1] === String(master.port)) break;
      if (Date.now() > deadline) throw new Error(`redis-harness: sentinel does not know master ${name}: ${JSON.stringify(reply)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const owned = spawned;
    return {
      host: '127.0.0.1',
      port: started.port,
      name,
      async stop() {
        await stopChild(owned, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (spawned) await stopChild(spawned, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
