import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type RedisClusterHandle, type RedisServerHandle, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { sleep, waitFor } from '@tinyllm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

/**
 * A TCP proxy in front of a real server that forwards the first HINCRBY it sees, swallows the
 * reply and then resets the client's connection: the write happened, the client never learns it.
 * Later connections pass through untouched.
 */
async function startReplyDroppingProxy(target: { host: string; port: number }): Promise<{ port: number; resets: () => number; close: () => Promise<void> }> {
  let armed = true;
  let resets = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    let swallow = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (armed && /hincrby/i.test(chunk.toString('latin1'))) {
        armed = false;
        swallow = true;
        setTimeout(() => {
          resets++;
          client.resetAndDestroy();
          upstream.destroy();
        }, 50);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!swallow) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no address');
  return {
    port: address.port,
    resets: () => resets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!redisAvailable)('shared counters', () => {
  let server: RedisServerHandle;
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
  });
  afterAll(() => Promise.all([releaseServer(server), cluster?.stop()]));

  it("two caches on two connections see each other's hits, misses, sets and savings", async () => {
    const keyPrefix = uniquePrefix('counters');
    const savingsOf = (value: { total_duration: number; eval_count: number }) => ({ durationNs: value.total_duration, tokens: value.eval_count });
    const a = createRedisCache({ url: server.url, keyPrefix, savingsOf });
    const b = createRedisCache({ url: server.url, keyPrefix, savingsOf });
    try {
      expect(await a.get('k')).toBeUndefined();
      await a.set('k', { total_duration: 1_000_000, eval_count: 7 });
      expect(await a.get('k')).toBeDefined();
      expect(await a.get('k')).toBeDefined();
      // a's deltas reach Redis within the flush interval; b reads them through getStats().
      await waitFor(async () => (await b.getStats()).shared?.hits === 2);
      const { shared, metrics } = await b.getStats();
      expect(metrics.hits).toBe(0);
      expect(shared).toEqual({ hits: 2, misses: 1, sets: 1, errors: 0, evictions: 0, savedDurationNs: 2_000_000, savedTokens: 14, stale: 0, byModel: {} });
      await b.get('k');
      await b.get('missing');
      await waitFor(async () => (await a.getStats()).shared?.hits === 3);
      expect((await a.getStats()).shared).toMatchObject({ hits: 3, misses: 2 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('readCounters includes deltas not flushed yet; close() flushes them', async () => {
    const keyPrefix = uniquePrefix('counters');
    const a = new RedisBackend({ url: server.url, keyPrefix, counterFlushMs: 60_000 });
    const b = new RedisBackend({ url: server.url, keyPrefix });
    try {
      a.recordCounters({ hits: 5, errors: 1 });
      expect((await a.readCounters()).hits).toBe(5);
      expect((await b.readCounters()).hits).toBe(0);
      await a.close();
      expect(await b.readCounters()).toMatchObject({ hits: 5, errors: 1 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('resetCounters resets them for everyone; clear() keeps them; entries and counters share the prefix', async () => {
    const keyPrefix = uniquePrefix('counters');
    const a = createRedisCache({ url: server.url, keyPrefix });
    const b = new RedisBackend({ url: server.url, keyPrefix });
    try {
      await a.set('k', 'v');
      await a.get('k');
      await waitFor(async () => (await b.readCounters()).hits === 1);
      expect((await a.getStats()).backend?.entries).toBe(1); // the counters hash is not an entry
      expect(await a.clear()).toBe(1);
      expect((await b.readCounters()).hits).toBe(1);
      await a.resetMetrics();
      expect(await b.readCounters()).toMatchObject({ hits: 0, misses: 0, sets: 0, errors: 0 });
      expect(a.getMetrics().hits).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('works on a cluster', async () => {
    const keyPrefix = uniquePrefix('counters');
    const a = createRedisCache({ clusterNodes: cluster.nodes, keyPrefix });
    const b = createRedisCache({ clusterNodes: cluster.nodes, keyPrefix });
    try {
      await a.set('k', 'v');
      expect(await a.get('k')).toBe('v');
      await waitFor(async () => (await b.getStats()).shared?.hits === 1);
      expect((await b.getStats()).shared).toMatchObject({ hits: 1, sets: 1 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a write whose reply is lost to a connection reset is not replayed: counters are not double-counted', { timeout: 15_000 }, async () => {
    const keyPrefix = uniquePrefix('counters-reset');
    const url = new URL(server.url);
    const proxy = await startReplyDroppingProxy({ host: url.hostname, port: Number(url.port || 6379) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const through = new RedisBackend({ url: url.toString(), keyPrefix });
    const direct = new RedisBackend({ url: server.url, keyPrefix });
    try {
      expect(await through.ready()).toBe(true);
      through.recordCounters({ hits: 1 });
      await waitFor(() => proxy.resets() === 1);
      // Reconnected through the (now transparent) proxy, with time for any resend to land.
      await waitFor(() => through.client.status === 'ready');
      await sleep(500);
      expect(await through.client.ping()).toBe('PONG');
      expect((await direct.readCounters()).hits).toBe(1);
    } finally {
      await Promise.all([through.close(), direct.close()]);
      await proxy.close();
    }
  });
});
