import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordingLogger, sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import type { CacheBackend, SetResult } from '../src/contract.js';
import { BackendClosedError, InvalidKeyError, InvalidOptionError } from '../src/errors.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

// One turn of the event loop: a background write starts on the turn after the answer.
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const failingBackend = (mode: 'throw' | 'hang'): CacheBackend => {
  const call = () => (mode === 'throw' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise<never>(() => {}));
  return { name: mode, capabilities: { network: true }, get: call, set: call, delete: call, has: call, clear: call, stats: call, close: async () => {} };
};

describe('ResponseCache: get, set and metrics', () => {
  it('misses, then hits after set, and counts both', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('k', { response: 'hi' })).toBe(true);
    expect(await cache.get('k')).toEqual({ response: 'hi' });
    expect(cache.getMetrics()).toEqual({
      hits: 1,
      misses: 1,
      sets: 1,
      evictions: 0,
      errors: 0,
      coalesced: 0,
      coalescedRemote: 0,
      stale: 0,
      hitRate: 0.5,
      totalRequests: 2,
      savedDurationNs: 0,
      savedTokens: 0,
      byModel: {},
    });
  });

  it('applies defaultTtl in seconds, and a per-entry TTL over it', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend(), defaultTtl: 3600 });
    const before = Date.now();
    await cache.set('default', 'v');
    await cache.set('short', 'v', { ttl: 0.2 });
    await cache.set('forever', 'v', { ttl: null });
    const entry = await cache.getEntry('default');
    expect(entry?.expiresAt).toBeGreaterThanOrEqual(before + 3600 * 1000);
    expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + 3600 * 1000);
    expect((await cache.getEntry('forever'))?.expiresAt).toBeNull();
    await sleep(350);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('default')).toBe('v');
  });

  it('disables counting with enableMetrics: false', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend(), enableMetrics: false });
    await cache.set('k', 'v');
    await cache.get('k');
    await cache.get('nope');
    expect(cache.getMetrics().totalRequests).toBe(0);
  });

  it('delete, has, clear and getStats', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await cache.set('a', 1);
    await cache.set('b', 2);
    expect(await cache.has('a')).toBe(true);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.has('a')).toBe(false);
    expect((await cache.getStats()).backend?.entries).toBe(1);
    expect(await cache.clear()).toBe(1);
    expect((await cache.getStats()).backend?.entries).toBe(0);
  });

  it('counts what hits saved through savingsOf', async () => {
    const cache = new ResponseCache<{ total_duration: number; eval_count: number }>({
      backend: new ReferenceBackend(),
      savingsOf: (value) => ({ durationNs: value.total_duration, tokens: value.eval_count }),
    });
    await cache.set('k', { total_duration: 2_000_000_000, eval_count: 40 });
    await cache.get('k');
    await cache.get('k');
    expect(cache.getMetrics()).toMatchObject({ savedDurationNs: 4_000_000_000, savedTokens: 80 });
  });

  it('derives keys under its namespace', () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend(), namespace: 'app-1' });
    expect(cache.generateCacheKey({ model: 'm', prompt: 'p' })).toMatch(/^app-1:[0-9a-f]{64}$/);
  });
});

describe('ResponseCache: bad input is a typed error naming what was wrong', () => {
  const backend = new ReferenceBackend();
  it.each([
    ['defaultTtl', { defaultTtl: -1 }],
    ['defaultTtl', { defaultTtl: Number.POSITIVE_INFINITY }],
    ['defaultTtl', { defaultTtl: Number.NaN }],
    ['defaultTtl', { defaultTtl: '60' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['namespace', { namespace: '' }],
  ])('rejects %s at construction', (option, options) => {
    const create = () => new ResponseCache({ backend, ...(options as object) });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(new RegExp(`Invalid option ${option}:`));
  });
  it('rejects a missing backend', () => {
    expect(() => new ResponseCache({} as never)).toThrow(/Invalid option backend/);
  });
  it('rejects a negative per-entry TTL', async () => {
    const cache = new ResponseCache({ backend });
    await expect(cache.set('k', 'v', { ttl: -5 })).rejects.toThrow('Invalid option ttl: -5');
  });
  it.each([[42], [''], [undefined], [null], [{}]])('rejects the key %j', async (key) => {
    const cache = new ResponseCache({ backend });
    await expect(cache.get(key as never)).rejects.toSatisfy(InvalidKeyError.isInstance);
    await expect(cache.set(key as never, 'v')).rejects.toSatisfy(InvalidKeyError.isInstance);
  });
  it('rejects calls after close with BackendClosedError', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await cache.close();
    await cache.close();
    await expect(cache.get('k')).rejects.toSatisfy(BackendClosedError.isInstance);
  });
});

describe('ResponseCache: fail open', () => {
  it.each(['throw', 'hang'] as const)('a backend that %ss is a miss, a skipped write and a counted, logged error', async (mode) => {
    const logger = recordingLogger();
    const events = logger.records;
    const cache = new ResponseCache({ backend: failingBackend(mode), timeoutMs: 50, logger });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('k', 'v')).toBe(false);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.clear()).toBe(0);
    const stats = await cache.getStats();
    expect(stats.backend).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ misses: 1, sets: 0, errors: 6 });
    const errors = events.filter((event) => event.level === 'error');
    expect(errors).toHaveLength(6);
    expect(errors[0]?.context).toMatchObject({ event: 'cache_error', operation: 'get', backend: mode, key: 'k' });
  });

  it('trusts a backend that promises to settle within the deadline, and only such a backend', async () => {
    const slowBackend = (settlesWithinMs: number): CacheBackend => {
      const backend = new ReferenceBackend();
      const get = backend.get.bind(backend);
      return Object.assign(backend, {
        capabilities: { settlesWithinMs },
        get: async (key: string) => {
          await sleep(120);
          return get(key);
        },
      });
    };
    const trusted = new ResponseCache({ backend: slowBackend(40), timeoutMs: 50 });
    await trusted.set('k', 'v');
    expect(await trusted.get('k')).toBe('v');
    const untrusted = new ResponseCache({ backend: slowBackend(500), timeoutMs: 50 });
    await untrusted.set('k', 'v');
    expect(await untrusted.get('k')).toBeUndefined();
    expect(untrusted.getMetrics().errors).toBe(1);
  });

  it('getOrSet still returns the computed value when the backend is dead', async () => {
    const cache = new ResponseCache({ backend: failingBackend('hang'), timeoutMs: 30 });
    let computed = 0;
    const value = await cache.getOrSet('k', async () => {
      computed++;
      return 'from the model';
    });
    expect(value).toBe('from the model');
    expect(computed).toBe(1);
    await cache.flush();
    expect(cache.getMetrics().errors).toBe(2);
  });

  it('a value that cannot be serialised is a refused write, not a thrown error', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await cache.set('k', cyclic)).toBe(false);
    expect(cache.getMetrics()).toMatchObject({ errors: 1, sets: 0 });
  });
});

describe('ResponseCache: getOrSet and single flight', () => {
  it('1,000 identical concurrent misses run compute once', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    let calls = 0;
    const compute = async () => {
      calls++;
      await sleep(20);
      return 'answer';
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.resolve('k', compute)));
    expect(calls).toBe(1);
    expect(results.every((result) => result.value === 'answer')).toBe(true);
    expect(results.filter((result) => result.status === 'miss')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'coalesced')).toHaveLength(999);
    await cache.flush();
    expect(cache.getMetrics()).toMatchObject({ misses: 1000, coalesced: 999, sets: 1 });
    expect((await cache.resolve('k', compute)).status).toBe('hit');
  });

  it('does not make the caller wait for the write: a hanging backend delays the answer by the read deadline only', async () => {
    let writes = 0;
    const backend = new ReferenceBackend();
    backend.set = () => {
      writes++;
      return new Promise(() => {});
    };
    const cache = new ResponseCache({ backend, timeoutMs: 10_000 });
    const value = await Promise.race([cache.getOrSet('k', () => 'answer'), sleep(1_000).then(() => 'blocked on the write')]);
    expect(value).toBe('answer');
    await nextTurn();
    expect(writes).toBe(1);
  });

  it('answers the caller before the write starts: the write begins on the next turn of the event loop', async () => {
    const backend = new ReferenceBackend();
    let writes = 0;
    const set = backend.set.bind(backend);
    backend.set = (key, entry) => {
      writes++;
      return set(key, entry);
    };
    const cache = new ResponseCache({ backend });
    expect(await cache.getOrSet('k', () => 'answer')).toBe('answer');
    // The caller's continuation (a proxy writing its client's answer) ran before any store work.
    expect(writes).toBe(0);
    await nextTurn();
    expect(writes).toBe(1);
    await cache.flush();
    expect(await cache.resolve('k', () => 'again')).toMatchObject({ value: 'answer', status: 'hit' });
  });

  it('a process that exits straight after a miss still writes its answer to a store that writes synchronously', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyllm-exit-'));
    const file = join(dir, 'entry.json');
    try {
      // The built package, in a process that ends with process.exit() right after the answer.
      const script = `
        import { writeFileSync } from 'node:fs';
        import { ReferenceBackend, ResponseCache } from '@tinyllm/cache-core';
        class FileBackend extends ReferenceBackend {
          set(key, entry) {
            writeFileSync(${JSON.stringify(file)}, JSON.stringify({ key, value: entry.value }));
            return super.set(key, entry);
          }
        }
        const cache = new ResponseCache({ backend: new FileBackend() });
        process.stdout.write(await cache.getOrSet('k', () => 'answer'));
        process.exit(0);
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
      expect(child.stderr.toString()).toBe('');
      expect(child.stdout.toString()).toBe('answer');
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ key: 'k', value: 'answer' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a write still waiting for its turn lands before any other use of the cache: a lookup hits, a delete wins', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    expect(await cache.getOrSet('k', () => 'answer')).toBe('answer');
    expect(await cache.resolve('k', () => 'again')).toMatchObject({ value: 'answer', status: 'hit' });
    expect(await cache.getOrSet('j', () => 'answer')).toBe('answer');
    expect(await cache.delete('j')).toBe(true);
    await cache.flush();
    expect(await cache.get('j')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ sets: 2, hits: 1 });
  });

  it('a caller arriving while the write is in flight joins the flight instead of computing again', async () => {
    const backend = new ReferenceBackend();
    const set = backend.set.bind(backend);
    let releaseWrite: () => void = () => {};
    backend.set = (key, entry) =>
      new Promise<SetResult>((resolve) => {
        releaseWrite = () => resolve(set(key, entry));
      });
    const cache = new ResponseCache({ backend });
    let calls = 0;
    expect(await cache.getOrSet('k', () => ++calls)).toBe(1);
    await nextTurn();
    expect(await cache.resolve('k', () => ++calls)).toMatchObject({ value: 1, status: 'coalesced' });
    releaseWrite();
    await cache.flush();
    expect((await cache.resolve('k', () => ++calls)).status).toBe('hit');
    expect(calls).toBe(1);
  });

  it('close() lets pending writes land first', async () => {
    const store = new Map<string, string>();
    const cache = new ResponseCache({ backend: new ReferenceBackend({ store }) });
    await cache.getOrSet('k', () => 'v');
    await cache.close();
    expect(await new ReferenceBackend({ store }).get('k')).toMatchObject({ value: 'v' });
  });

  it('different keys do not coalesce', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    let calls = 0;
    await Promise.all(['a', 'b', 'c'].map((key) => cache.getOrSet(key, async () => ++calls)));
    expect(calls).toBe(3);
  });

  it('a failing compute rejects every waiter, stores nothing, and the next call computes again', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const failing = Promise.all([1, 2, 3].map(() => cache.getOrSet('k', async () => Promise.reject(new Error('upstream 500')))));
    await expect(failing).rejects.toThrow('upstream 500');
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('forceRefresh skips the read and replaces the entry', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await cache.set('k', 'old');
    const result = await cache.resolve('k', () => 'new', { forceRefresh: true });
    expect(result).toMatchObject({ value: 'new', status: 'refresh' });
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 1 });
    await cache.flush();
    expect(await cache.get('k')).toBe('new');
  });

  it('noStore computes without storing; shouldStore can refuse a value', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await cache.getOrSet('a', () => 'v', { noStore: true });
    await cache.getOrSet('b', () => ({ done: false }), { shouldStore: (value) => (value as { done: boolean }).done });
    await cache.flush();
    expect(await cache.has('a')).toBe(false);
    expect(await cache.has('b')).toBe(false);
  });

  it('a per-call TTL applies to the stored value', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await cache.getOrSet('k', () => 'v', { ttl: 0.15 });
    await cache.flush();
    expect(await cache.get('k')).toBe('v');
    await sleep(300);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('ResponseCache: logging', () => {
  it('logs hits with the key prefix and access count, misses and sets with the TTL; never the whole key', async () => {
    const logger = recordingLogger();
    const events = logger.records;
    const cache = new ResponseCache({ backend: new ReferenceBackend(), logger });
    const key = cache.generateCacheKey({ model: 'm', prompt: 'a secret prompt' });
    await cache.get(key);
    await cache.set(key, 'v', { ttl: 60 });
    await cache.get(key);
    expect(events.map((event) => event.context.event)).toEqual(['cache_miss', 'cache_set', 'cache_hit']);
    expect(events[1]?.context).toMatchObject({ ttl: 60 });
    expect(events[2]?.context).toHaveProperty('accessCount');
    for (const event of events) {
      expect(event.context.key).toBe(key.slice(0, 16));
      expect(JSON.stringify(event)).not.toContain('a secret prompt');
    }
  });

  it('respects a pino-style isLevelEnabled', async () => {
    const logger = recordingLogger();
    const events = logger.records;
    const cache = new ResponseCache({
      backend: new ReferenceBackend(),
      logger: Object.assign(logger, { isLevelEnabled: (level: string) => level !== 'debug' }),
    });
    await cache.get('k');
    expect(events).toEqual([]);
  });
});

describe('DeadlineQueue', () => {
  it('rejects operations past their deadline in order, and lets on-time ones through', async () => {
    const { DeadlineQueue } = await import('../src/deadline.js');
    const { CacheTimeoutError } = await import('../src/errors.js');
    const queue = new DeadlineQueue(40);
    const fast = queue.run(
      sleep(5).then(() => 'fast'),
      'b',
      'get',
    );
    const slow = queue.run(
      sleep(400).then(() => 'slow'),
      'b',
      'get',
    );
    const never = queue.run(new Promise<string>(() => {}), 'b', 'get');
    expect(await fast).toBe('fast');
    await expect(slow).rejects.toSatisfy(CacheTimeoutError.isInstance);
    await expect(never).rejects.toThrow('b backend: get did not answer within 40 ms');
    expect(queue.run('plain', 'b', 'get')).toBe('plain');
  });
});

describe('ResponseCache: robustness', () => {
  it('a throwing shouldStore is a counted error, never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const cache = new ResponseCache({ backend: new ReferenceBackend() });
      const shouldStore = (): boolean => {
        throw new Error('boom in shouldStore');
      };
      expect(await cache.getOrSet('k', () => ({ a: 1 }), { shouldStore })).toEqual({ a: 1 });
      await cache.flush();
      await sleep(20);
      expect(unhandled).toEqual([]);
      expect(cache.getMetrics().errors).toBe(1);
      expect(await cache.has('k')).toBe(false);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('close() does not wait for computations in flight, and their answers are not stored after it', async () => {
    const store = new Map<string, string>();
    const cache = new ResponseCache({ backend: new ReferenceBackend({ store }) });
    let release: (value: string) => void = () => {};
    const answer = cache.getOrSet('k', () => new Promise<string>((resolve) => (release = resolve)));
    const closed = await Promise.race([cache.close().then(() => 'closed'), sleep(500).then(() => 'waited for the computation')]);
    expect(closed).toBe('closed');
    release('late');
    expect(await answer).toBe('late');
    await sleep(10);
    expect(store.size).toBe(0);
    expect(cache.getMetrics().errors).toBe(0);
  });

  it('validate turns a stored value of a foreign shape into a miss plus an error', async () => {
    const store = new Map<string, string>();
    await new ResponseCache({ backend: new ReferenceBackend({ store }) }).set('k', { something: 'else' });
    const cache = new ResponseCache<{ v: 1 }>({ backend: new ReferenceBackend({ store }), validate: (value) => (value as { v?: unknown }).v === 1 });
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 1, errors: 1 });
    await cache.set('k', { v: 1 });
    expect(await cache.get('k')).toEqual({ v: 1 });
  });

  it('rejects a timeoutMs setTimeout cannot honour', () => {
    expect(() => new ResponseCache({ backend: new ReferenceBackend(), timeoutMs: 2 ** 31 })).toThrow(/Invalid option timeoutMs/);
  });
});
