import { BackendError, createEntry } from '@tinyllm/cache-core';
import { type RedisClusterHandle, sendCommand, startRedisCluster, unusedPort } from '@tinyllm/redis-harness';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { redisAvailable, uniquePrefix } from './helpers.js';

/** The pid of the redis-server on port (INFO server), to SIGSTOP/SIGCONT one node of the cluster. */
async function pidOf(port: number): Promise<number> {
  const info = String(await sendCommand('127.0.0.1', port, ['INFO', 'server']));
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no process_id in INFO of port ${port}`);
  return pid;
}

/** Awaits call and returns what it threw (fails the test when it resolved). */
async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    const value = await call;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    return error;
  }
}

describe.skipIf(!redisAvailable)('cluster clear() and stats() failures', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(() => cluster?.stop());

  it('the Cluster it creates gives every node the safe defaults', async () => {
    const backend = new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: uniquePrefix('options') });
    try {
      expect(await backend.ready()).toBe(true);
      expect((backend.client as Cluster).options.redisOptions).toMatchObject({
        commandTimeout: 200,
        autoResendUnfulfilledCommands: false,
        disconnectTimeout: 500,
      });
      expect(backend.capabilities.settlesWithinMs).toBe(200);
    } finally {
      await backend.close();
    }
    const slow = new RedisBackend({ clusterNodes: cluster.nodes, clusterOptions: { redisOptions: { commandTimeout: 5000 } } });
    try {
      await slow.ready();
      expect(slow.capabilities.settlesWithinMs).toBeUndefined();
    } finally {
      await slow.close();
    }
  });

  it('a cluster that is not connected: clear() and stats() throw BackendError instead of reporting nothing', async () => {
    const backend = new RedisBackend({ clusterNodes: [{ host: '127.0.0.1', port: await unusedPort() }], keyPrefix: uniquePrefix('down') });
    try {
      expect(await backend.ready()).toBe(false);
      const cleared = await rejection(backend.clear());
      expect(BackendError.isInstance(cleared), String(cleared)).toBe(true);
      expect((cleared as Error).message).toMatch(/clear failed: .*not connected/);
      const stats = await rejection(backend.stats());
      expect(BackendError.isInstance(stats), String(stats)).toBe(true);
      expect((stats as Error).message).toMatch(/stats failed: .*not connected/);
    } finally {
      await backend.close();
    }
  });

  it('one master down: clear() removes what it can on the others, then throws BackendError saying how many', { timeout: 20_000 }, async () => {
    const backend = new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: uniquePrefix('partial') });
    const total = 90;
    try {
      expect(await backend.ready()).toBe(true);
      for (let i = 0; i < total; i++) await backend.set(`k${i}`, createEntry(i));
      expect((await backend.stats()).entries).toBe(total);
      const masters = (backend.client as Cluster).nodes('master');
      expect(masters.length).toBe(cluster.nodes.length);
      // The keys the paused master holds (its own SCAN), so the count removed elsewhere is known.
      const pausedNode = masters[0];
      const pausedPort = Number(pausedNode?.options.port);
      const onPaused = (await pausedNode?.keys(`${backend.keyPrefix}*`))?.filter((k) => !k.endsWith('__stats')).length ?? 0;
      expect(onPaused).toBeGreaterThan(0);
      expect(onPaused).toBeLessThan(total);
      const pid = await pidOf(pausedPort);
      process.kill(pid, 'SIGSTOP');
      let cleared: unknown;
      let stats: unknown;
      try {
        cleared = await rejection(backend.clear());
        stats = await rejection(backend.stats());
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(BackendError.isInstance(cleared), String(cleared)).toBe(true);
      expect((cleared as Error).message).toContain(`${total - onPaused} entries removed`);
      expect((cleared as Error).message).toMatch(/1 of 3 masters failed/);
      expect(BackendError.isInstance(stats), String(stats)).toBe(true);
      expect((stats as Error).message).toMatch(/1 of 3 masters failed/);
      // Everything but the paused master's keys is gone; with it back, clear() finishes the job.
      expect((await backend.stats()).entries).toBe(onPaused);
      expect(await backend.clear()).toBe(onPaused);
    } finally {
      await backend.close();
    }
  });
});
