import type { Socket } from 'node:net';
import type { ResponseCache } from '@tinyllm/cache-core';
import { type RedisServerHandle, type SilentServerHandle, startRedisServer, startSilentServer, unusedPort } from '@tinyllm/redis-harness';
import { recordingLogger, sleep, waitFor } from '@tinyllm/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { redisAvailable, uniquePrefix } from './helpers.js';

/** The default ResponseCache deadline, plus scheduling slack for a loaded 2-vCPU machine. */
const DEADLINE_MS = 250;
const SLACK_MS = 150;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

/** Runs call and returns how long it took to settle, in ms (never throws). */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; value: unknown; error: unknown }> {
  const started = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - started, value, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, value: undefined, error };
  }
}

/** Every cache call settles within the deadline, without error, as a miss or fall-through. */
async function expectEveryCallFallsThrough(cache: ResponseCache<string>): Promise<void> {
  // getOrSet is a read, the computation and a write: ResponseCache awaits the write, so two deadlines.
  const calls: Array<[string, () => Promise<unknown>, unknown, number]> = [
    ['get', () => cache.get('k'), undefined, 1],
    ['set', () => cache.set('k', 'v'), false, 1],
    ['has', () => cache.has('k'), false, 1],
    ['delete', () => cache.delete('k'), false, 1],
    ['getOrSet', () => cache.getOrSet('k', () => 'computed'), 'computed', 2],
  ];
  for (const [name, call, expected, deadlines] of calls) {
    const { ms, value, error } = await timed(call);
    expect(error, name).toBeUndefined();
    expect(value, name).toEqual(expected);
    expect(ms, `${name} settled in ${ms.toFixed(0)} ms`).toBeLessThan(deadlines * DEADLINE_MS + SLACK_MS);
  }
  const stats = await timed(() => cache.getStats());
  expect(stats.error).toBeUndefined();
  expect(cache.getMetrics().errors).toBeGreaterThanOrEqual(calls.length);
}

/** Open sockets of this process from localPort to remotePort (process._getActiveHandles: Node's only per-socket view). */
function openSockets(localPort: number, remotePort: number): Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is Socket => {
    const socket = h as Partial<Socket>;
    return typeof socket.remotePort === 'number' && socket.remotePort === remotePort && socket.localPort === localPort && !socket.destroyed;
  });
}

describe.skipIf(!redisAvailable)('faults', () => {
  let server: RedisServerHandle;
  let silent: SilentServerHandle;
  const caches: Array<ResponseCache<string>> = [];
  const track = (cache: ResponseCache<string>): ResponseCache<string> => {
    caches.push(cache);
    return cache;
  };
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    [server, silent] = await Promise.all([startRedisServer({ local: true }), startSilentServer()]);
  });
  afterEach(async () => {
    const closing = await timed(() => Promise.all(caches.splice(0).map((c) => c.close())));
    expect(closing.ms, 'close() settles promptly even against a dead server').toBeLessThan(1000);
    // Give late ioredis rejections a chance to surface before checking.
    await sleep(50);
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await Promise.all([server?.stop(), silent?.close()]);
  });

  it('kill and restart under load: no caller fails, errors are counted, hits resume', { timeout: 20_000 }, async () => {
    const cache = track(createRedisCache<string>({ url: server.url, keyPrefix: uniquePrefix('faults') }));
    const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
    let failed = 0;
    let computed = 0;
    let hitsAfterRestart = 0;
    let restartedAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = keys[(id + i) % keys.length] ?? 'key-0';
        try {
          const result = await cache.resolve(key, () => {
            computed++;
            return `value of ${key}`;
          });
          if (result.value !== `value of ${key}`) failed++;
          if (result.status === 'hit' && performance.now() > restartedAt) hitsAfterRestart++;
        } catch {
          failed++;
        }
        await sleep(2);
      }
    };
    const load = Promise.all(Array.from({ length: 32 }, (_, id) => worker(id)));
    await sleep(400);
    const hitsBeforeKill = cache.getMetrics().hits;
    await server.kill();
    await sleep(600);
    const errorsWhileDown = cache.getMetrics().errors;
    await server.start();
    restartedAt = performance.now();
    await waitFor(() => hitsAfterRestart > 0, 6000).finally(() => {
      stop = true;
    });
    await load;
    expect(failed).toBe(0);
    expect(hitsBeforeKill).toBeGreaterThan(0);
    expect(errorsWhileDown).toBeGreaterThan(0);
    expect(hitsAfterRestart).toBeGreaterThan(0);
    expect(computed).toBeGreaterThan(keys.length); // the outage fell through to compute
  });

  it('a connected server that hangs (SIGSTOP): calls settle within the deadline, hits resume after SIGCONT', async () => {
    const cache = track(createRedisCache<string>({ url: server.url, keyPrefix: uniquePrefix('hang') }));
    await cache.set('kept', 'v');
    await server.pause();
    try {
      await expectEveryCallFallsThrough(cache);
    } finally {
      await server.resume();
    }
    await waitFor(async () => (await cache.get('kept')) === 'v', 5000);
  });

  it('a server that accepts and never answers: every call settles within the deadline', async () => {
    const logger = recordingLogger();
    const cache = track(createRedisCache<string>({ port: silent.port, logger }));
    await expectEveryCallFallsThrough(cache);
    // ...and keeps doing so after the first connection attempt has given up.
    await sleep(800);
    await expectEveryCallFallsThrough(cache);
  });

  it('a port nothing listens on: calls settle fast and the refusal is logged', async () => {
    const logger = recordingLogger();
    const port = await unusedPort();
    const cache = track(createRedisCache<string>({ port, logger }));
    await expectEveryCallFallsThrough(cache);
    const { ms } = await timed(() => cache.get('k'));
    expect(ms).toBeLessThan(200); // not connected: fails at once, never waits for the 250 ms deadline (margin for a loaded machine)
    expect(logger.records.some((r) => r.level === 'error' && r.message.includes('connection refused'))).toBe(true);
  });

  it('a wrong password: a clear error is logged at connect, calls fall through', async () => {
    const secured = await startRedisServer({ password: 'right-password' });
    try {
      const logger = recordingLogger();
      const cache = track(createRedisCache<string>({ port: secured.port, password: 'wrong-password', logger }));
      await waitFor(() => logger.records.some((r) => r.level === 'error'), 2000);
      const error = logger.records.find((r) => r.level === 'error');
      expect(error?.message).toMatch(/authentication failed at 127\.0\.0\.1:\d+: check the password/);
      await expectEveryCallFallsThrough(cache);
      const good = track(createRedisCache<string>({ url: secured.url, keyPrefix: uniquePrefix('auth') }));
      expect(await good.getOrSet('k', () => 'v')).toBe('v');
      expect(await good.get('k')).toBe('v');
    } finally {
      await secured.stop();
    }
  });

  it('the first calls wait for the first connection instead of missing', async () => {
    const prefix = uniquePrefix('first');
    const writer = track(createRedisCache<string>({ url: server.url, keyPrefix: prefix }));
    await writer.set('k', 'stored');
    const reader = track(createRedisCache<string>({ url: server.url, keyPrefix: prefix }));
    expect(await reader.get('k')).toBe('stored');
    expect(reader.getMetrics().errors).toBe(0);
  });

  it('a commandTimeout override longer than the deadline: the cache keeps its own deadline on a hung server', async () => {
    const cache = track(createRedisCache<string>({ url: server.url, keyPrefix: uniquePrefix('override'), redisOptions: { commandTimeout: 3000 } }));
    await cache.set('kept', 'v');
    expect(await cache.get('kept')).toBe('v');
    // The backend advertises no bound it cannot keep.
    expect(cache.backend.capabilities.settlesWithinMs).toBeUndefined();
    await server.pause();
    try {
      const { ms, value, error } = await timed(() => cache.get('kept'));
      expect(error).toBeUndefined();
      expect(value).toBeUndefined();
      expect(ms, `get settled in ${ms.toFixed(0)} ms`).toBeLessThan(1000); // the 250 ms deadline, not the 3 s command timeout
    } finally {
      await server.resume();
    }
  });

  it('advertises settlesWithinMs only from the effective commandTimeout of the client it created', async () => {
    const bounded = async (options: ConstructorParameters<typeof RedisBackend>[0]): Promise<number | undefined> => {
      const backend = new RedisBackend({ url: server.url, ...options });
      try {
        await backend.ready();
        return backend.capabilities.settlesWithinMs;
      } finally {
        await backend.close();
      }
    };
    expect(await bounded({})).toBe(200);
    expect(await bounded({ commandTimeoutMs: 120 })).toBe(120);
    expect(await bounded({ redisOptions: { commandTimeout: 80 } })).toBe(80);
    expect(await bounded({ redisOptions: { commandTimeout: 3000 } })).toBeUndefined();
    expect(await bounded({ redisOptions: { commandTimeout: undefined } })).toBeUndefined();
  });

  it('close() on a hung server releases the socket promptly', async () => {
    const backend = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('close-hung') });
    expect(await backend.ready()).toBe(true);
    const { localPort } = (backend.client as Redis).stream as Socket;
    expect(localPort).toBeTypeOf('number');
    expect(openSockets(localPort ?? 0, server.port)).toHaveLength(1);
    await server.pause();
    try {
      backend.recordCounters({ hits: 1 });
      const { ms } = await timed(() => backend.close());
      expect(ms).toBeLessThan(1500);
      expect(backend.client.status).toBe('end');
      // ioredis's own disconnectTimeout (2 s by default) would keep the socket, and the process, alive.
      await waitFor(() => openSockets(localPort ?? 0, server.port).length === 0, 1000);
    } finally {
      await server.resume();
    }
  });
});
