import { CacheDecodeError, createEntry } from '@tinyllm/cache-core';
import { type RedisClusterHandle, type RedisServerHandle, sendCommand, startRedisCluster, startRedisServer } from '@tinyllm/redis-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { redisAvailable, uniquePrefix } from './helpers.js';

/** Calls of GET and MGET the server has answered so far (INFO commandstats). */
async function commandCalls(port: number): Promise<{ get: number; mget: number }> {
  const info = String(await sendCommand('127.0.0.1', port, ['INFO', 'commandstats']));
  const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { get: calls('get'), mget: calls('mget') };
}

async function sumCalls(ports: number[]): Promise<{ get: number; mget: number }> {
  const all = await Promise.all(ports.map(commandCalls));
  return { get: all.reduce((n, c) => n + c.get, 0), mget: all.reduce((n, c) => n + c.mget, 0) };
}

/** What reading keys concurrently (all in one tick) did: each caller's value or error, and the server's GET/MGET calls meanwhile. */
async function readTogether(backend: RedisBackend, keys: string[], ports: number[]) {
  await backend.ready();
  const before = await sumCalls(ports);
  const settled = await Promise.allSettled(keys.map((key) => backend.get(key)));
  const after = await sumCalls(ports);
  return { settled, get: after.get - before.get, mget: after.mget - before.mget };
}

const settledValue = (result: PromiseSettledResult<unknown>): unknown =>
  result.status === 'fulfilled' ? (result.value as { value?: unknown } | undefined)?.value : 'rejected';

describe.skipIf(!redisAvailable)('batched reads (batchReads)', () => {
  let server: RedisServerHandle;
  let cluster: RedisClusterHandle;
  const backends: RedisBackend[] = [];
  const open = (options: RedisBackendOptions): RedisBackend => {
    const backend = new RedisBackend(options);
    backends.push(backend);
    return backend;
  };
  beforeAll(async () => {
    [server, cluster] = await Promise.all([startRedisServer({ local: true }), startRedisCluster()]);
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await Promise.all([server?.stop(), cluster?.stop()]);
  });

  it('the lookups of one tick go as one MGET; each caller gets its own entry, absent keys are misses', async () => {
    const backend = open({ url: server.url, keyPrefix: uniquePrefix('batch') });
    for (let i = 0; i < 30; i += 2) await backend.set(`k${i}`, createEntry({ n: i }));
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const { settled, get, mget } = await readTogether(backend, keys, [server.port]);
    expect(settled.map(settledValue)).toEqual(keys.map((_, i) => (i % 2 === 0 ? { n: i } : undefined)));
    expect({ get, mget }).toEqual({ get: 0, mget: 1 });
    // Same key twice in one batch: two separate objects, so one caller cannot change the other's.
    const [a, b] = await Promise.all([backend.get('k0'), backend.get('k0')]);
    expect(a?.value).toEqual({ n: 0 });
    expect(a?.value).not.toBe(b?.value);
  });

  it('a lone lookup is a plain GET; a batch over maxBatchKeys is split', async () => {
    const backend = open({ url: server.url, keyPrefix: uniquePrefix('split'), maxBatchKeys: 8 });
    await backend.set('x', createEntry('x'));
    const lone = await readTogether(backend, ['x'], [server.port]);
    expect(lone.settled.map(settledValue)).toEqual(['x']);
    expect({ get: lone.get, mget: lone.mget }).toEqual({ get: 1, mget: 0 });
    const many = await readTogether(
      backend,
      Array.from({ length: 20 }, () => 'x'),
      [server.port],
    );
    expect(many.settled.map(settledValue)).toEqual(Array.from({ length: 20 }, () => 'x'));
    expect({ get: many.get, mget: many.mget }).toEqual({ get: 0, mget: 3 });
  });

  it('batchReads: false sends one GET per lookup', async () => {
    const backend = open({ url: server.url, keyPrefix: uniquePrefix('off'), batchReads: false });
    await backend.set('x', createEntry('x'));
    const { settled, get, mget } = await readTogether(backend, ['x', 'x', 'y'], [server.port]);
    expect(settled.map(settledValue)).toEqual(['x', 'x', undefined]);
    expect({ get, mget }).toEqual({ get: 3, mget: 0 });
  });

  it('a value that does not decode fails only its own lookup in the batch', async () => {
    const prefix = uniquePrefix('corrupt');
    const backend = open({ url: server.url, keyPrefix: prefix });
    await backend.set('good', createEntry('fine'));
    await sendCommand('127.0.0.1', server.port, ['SET', `${prefix}bad`, 'tlc1:[not json']);
    const { settled, mget } = await readTogether(backend, ['good', 'bad', 'good'], [server.port]);
    expect(mget).toBe(1);
    expect(settledValue(settled[0] as PromiseSettledResult<unknown>)).toBe('fine');
    expect(settledValue(settled[2] as PromiseSettledResult<unknown>)).toBe('fine');
    const failed = settled[1] as PromiseRejectedResult;
    expect(failed.status).toBe('rejected');
    expect(CacheDecodeError.isInstance(failed.reason)).toBe(true);
  });

  it('a hung server: every lookup of a batch is a miss plus an error, and hits resume after it wakes', async () => {
    const cache = createRedisCache<string>({ url: server.url, keyPrefix: uniquePrefix('hang') });
    try {
      await cache.set('kept', 'v');
      await server.pause();
      let results: Array<string | undefined>;
      try {
        results = await Promise.all(Array.from({ length: 12 }, () => cache.get('kept')));
      } finally {
        await server.resume();
      }
      expect(results).toEqual(Array.from({ length: 12 }, () => undefined));
      expect(cache.getMetrics().errors).toBe(12);
      expect(await Promise.all([cache.get('kept'), cache.get('kept')])).toEqual(['v', 'v']);
    } finally {
      await cache.close();
    }
  });

  it('a Cluster: one MGET per hash slot, never a cross-slot one; keys in many slots all come back', async () => {
    const backend = open({ clusterNodes: cluster.nodes, keyPrefix: uniquePrefix('cluster') });
    const ports = cluster.nodes.map((n) => n.port);
    // {tag} keys share one slot; plain ones spread over the cluster.
    const tagged = Array.from({ length: 10 }, (_, i) => `{user-7}:${i}`);
    const spread = Array.from({ length: 40 }, (_, i) => `spread-${i}`);
    for (const key of [...tagged, ...spread]) await backend.set(key, createEntry(key));
    const one = await readTogether(backend, tagged, ports);
    expect(one.settled.map(settledValue)).toEqual(tagged);
    expect({ get: one.get, mget: one.mget }).toEqual({ get: 0, mget: 1 });
    const many = await readTogether(backend, spread, ports);
    expect(many.settled.map(settledValue)).toEqual(spread);
    expect(many.get + many.mget).toBeGreaterThan(1);
  });

  it('a read issued after a write of the same key sees the write, though reads skip the auto-pipeline', async () => {
    const backend = open({ url: server.url, keyPrefix: uniquePrefix('order') });
    await backend.ready();
    for (let i = 0; i < 20; i++) {
      // The SET waits in ioredis's auto-pipeline (until setImmediate); the GET must not overtake it.
      const written = backend.set('k', createEntry(i));
      const read = backend.get('k');
      const [entry] = await Promise.all([read, written]);
      expect(entry?.value).toBe(i);
    }
  });

  it('a supplied ioredis client batches too, and stays open after close()', async () => {
    const client = new Redis(server.url, { enableAutoPipelining: true });
    try {
      const backend = new RedisBackend({ client, keyPrefix: uniquePrefix('supplied') });
      await backend.set('a', createEntry(1));
      await backend.set('b', createEntry(2));
      const { settled, mget } = await readTogether(backend, ['a', 'b'], [server.port]);
      expect(settled.map(settledValue)).toEqual([1, 2]);
      expect(mget).toBe(1);
      await backend.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
