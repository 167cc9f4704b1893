import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisCli, findRedisServer, INSTALL_MESSAGE } from './locate.js';
import { unusedClusterPort } from './ports.js';
import { run, type Spawned, stopChild } from './process.js';
import { sendCommand } from './resp.js';
import { serverArgs, spawnServer } from './server.js';

/** A throwaway Redis Cluster of masters only. */
export interface RedisClusterHandle {
  /** The masters' addresses (seed nodes for ioredis Cluster). */
  nodes: Array<{ host: string; port: number }>;
  /** Stops every node and removes their directories; idempotent. */
  stop(): Promise<void>;
}

/** Options of startRedisCluster. */
export interface RedisClusterOptions {
  /** Number of masters (at least 3, Redis's minimum for `--cluster create`); default 3. */
  masters?: number;
}

const HOST = '127.0.0.1';

async function waitForClusterOk(nodes: Array<{ host: string; port: number }>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const infos = await Promise.all(nodes.map((n) => sendCommand(n.host, n.port, ['CLUSTER', 'INFO'], { timeoutMs: 500 })));
      if (infos.every((info) => typeof info === 'string' && info.includes('cluster_state:ok'))) return;
      last = String(infos.find((info) => typeof info !== 'string' || !info.includes('cluster_state:ok')));
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-harness: cluster did not reach cluster_state:ok within ${timeoutMs} ms: ${last}`);
}

/**
 * Starts `masters` redis-server nodes in cluster mode on free loopback ports (each with a free bus
 * port), joins them with `redis-cli --cluster create` (no replicas) and waits until every node
 * reports cluster_state:ok.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`redis-harness: masters must be an integer >= 3, got ${masters}`);
  const bin = findRedisServer();
  if (!bin) throw new Error(INSTALL_MESSAGE);
  const cli = findRedisCli();
  if (!cli) throw new Error('redis-cli not found: install it with `apt-get install redis-tools` (it ships with redis-server)');
  const dirs: string[] = [];
  const children: Spawned[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.splice(0).map((child) => stopChild(child, 'SIGTERM')));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      Array.from({ length: masters }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'tinyllm-redis-cluster-'));
        dirs.push(dir);
        const port = await unusedClusterPort();
        const args = (p: number): string[] =>
          serverArgs(p, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000']);
        const node = await spawnServer(bin, args, port);
        children.push(node.spawned);
        return { host: HOST, port: node.port };
      }),
    );
    await run(cli, ['--cluster', 'create', ...started.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(started);
    return { nodes: started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
