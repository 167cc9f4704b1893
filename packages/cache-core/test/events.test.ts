import { recordingLogger } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import type { CacheBackend } from '../src/contract.js';
import { createEntry } from '../src/create-entry.js';
import { BackendError, InvalidOptionError } from '../src/errors.js';
import type { ResponseCacheEvents } from '../src/events.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

type Seen = Array<{ event: keyof ResponseCacheEvents; payload: unknown }>;

/** Subscribes to every event of cache and records what it hears. */
function listen(cache: ResponseCache<unknown>): Seen {
  const seen: Seen = [];
  for (const event of ['hit', 'miss', 'set', 'writeFailed', 'error', 'eviction'] as const) {
    cache.on(event, (payload) => seen.push({ event, payload }));
  }
  return seen;
}

describe('ResponseCache events', () => {
  it('hit, miss and set carry the key (and the entry), in order, synchronously', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const seen = listen(cache);
    await cache.get('k');
    expect(seen).toEqual([{ event: 'miss', payload: { key: 'k' } }]);
    await cache.set('k', 'v', { ttl: 60 });
    await cache.get('k');
    expect(seen.map((s) => s.event)).toEqual(['miss', 'set', 'hit']);
    expect(seen[1]?.payload).toMatchObject({ key: 'k', entry: { value: 'v' } });
    expect(seen[2]?.payload).toMatchObject({ key: 'k', entry: { value: 'v', accessCount: 0 } });
  });

  it('every count of misses is a miss event: a coalesced join and a forced refresh too', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const seen = listen(cache);
    let release: (value: string) => void = () => {};
    const first = cache.resolve('k', () => new Promise<string>((resolve) => (release = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const joined = cache.resolve('k', () => 'never');
    release('v');
    await Promise.all([first, joined]);
    await cache.resolve('k', () => 'fresh', { forceRefresh: true });
    await cache.flush();
    expect(seen.filter((s) => s.event === 'miss')).toHaveLength(cache.getMetrics().misses);
    expect(cache.getMetrics().misses).toBe(3);
  });

  it('a failing backend emits error, and a failed write also writeFailed with reason error', async () => {
    const failure = new Error('ECONNREFUSED');
    const fail = () => Promise.reject(failure);
    const backend: CacheBackend = { name: 'down', capabilities: {}, get: fail, set: fail, delete: fail, has: fail, clear: fail, stats: fail, close: () => {} };
    const cache = new ResponseCache({ backend });
    const seen = listen(cache);
    await cache.get('k');
    await cache.set('k', 'v');
    await cache.clear();
    expect(seen).toEqual([
      { event: 'error', payload: { operation: 'get', key: 'k', error: failure } },
      { event: 'miss', payload: { key: 'k' } },
      { event: 'error', payload: { operation: 'set', key: 'k', error: failure } },
      { event: 'writeFailed', payload: { key: 'k', reason: 'error', error: failure } },
      { event: 'error', payload: { operation: 'clear', key: undefined, error: failure } },
    ]);
  });

  it('a refused write emits writeFailed with reason refused (no error event)', async () => {
    const backend = new ReferenceBackend();
    const cache = new ResponseCache({ backend });
    const seen = listen(cache);
    expect(await cache.set('k', () => 'a function is not JSON')).toBe(false);
    expect(seen).toEqual([{ event: 'writeFailed', payload: { key: 'k', reason: 'refused' } }]);
  });

  it('a computation that finishes after close() emits writeFailed with reason closed', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const seen = listen(cache);
    let release: (value: string) => void = () => {};
    const answer = cache.getOrSet('k', () => new Promise<string>((resolve) => (release = resolve)));
    await cache.close();
    release('late');
    await answer;
    expect(seen.filter((s) => s.event === 'writeFailed')).toEqual([{ event: 'writeFailed', payload: { key: 'k', reason: 'closed' } }]);
  });

  it('eviction carries the evicted key', async () => {
    const backend = new ReferenceBackend();
    const listeners: Array<(key: string) => void> = [];
    Object.assign(backend, { onEviction: (listener: (key: string) => void) => listeners.push(listener) });
    const cache = new ResponseCache({ backend });
    const seen = listen(cache);
    for (const listener of listeners) listener('gone');
    expect(seen).toEqual([{ event: 'eviction', payload: { key: 'gone' } }]);
    expect(cache.getMetrics().evictions).toBe(1);
  });

  it('the function on() returns unsubscribes (once, even if called twice)', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const keys: string[] = [];
    const other: string[] = [];
    const off = cache.on('miss', ({ key }) => keys.push(key));
    cache.on('miss', ({ key }) => other.push(key));
    await cache.get('a');
    off();
    off();
    await cache.get('b');
    expect(keys).toEqual(['a']);
    expect(other).toEqual(['a', 'b']);
  });

  it('a throwing listener is logged and skipped: the cache and the other listeners go on', async () => {
    const logger = recordingLogger();
    const cache = new ResponseCache({ backend: new ReferenceBackend(), logger });
    const heard: string[] = [];
    cache.on('hit', () => {
      throw new Error('listener bug');
    });
    cache.on('hit', ({ key }) => heard.push(key));
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(heard).toEqual(['k']);
    expect(cache.getMetrics()).toMatchObject({ hits: 1, errors: 0 });
    const logged = logger.records.find((record) => record.context.event === 'listener_error');
    expect(logged?.level).toBe('error');
    expect(logged?.context.err).toMatchObject({ message: 'listener bug' });
  });

  it('a listener that subscribes or unsubscribes during an emit does not change that emit', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const calls: string[] = [];
    const offSecond = cache.on('miss', () => {
      calls.push('second');
    });
    cache.on('miss', () => {
      calls.push('third');
    });
    cache.on('miss', () => {
      offSecond();
      cache.on('miss', () => calls.push('added'));
    });
    await cache.get('a');
    expect(calls).toEqual(['second', 'third']);
  });

  it('refuses an unknown event name or a listener that is not a function, naming it', () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    expect(() => cache.on('hits' as never, () => {})).toThrow(InvalidOptionError);
    expect(() => cache.on('hits' as never, () => {})).toThrow(/Invalid option event: "hits"/);
    expect(() => cache.on('hit', 'not a function' as never)).toThrow(/Invalid option listener/);
  });

  it('the logger stays a logger: events arrive with a silent logger, and errors still reach the logger', async () => {
    const logger = recordingLogger();
    const backend = new ReferenceBackend();
    backend.get = () => {
      throw new BackendError('reference', 'get', 'broken');
    };
    const cache = new ResponseCache({ backend, logger });
    const errors: unknown[] = [];
    cache.on('error', ({ error }) => errors.push(error));
    await cache.get('k');
    expect(errors).toHaveLength(1);
    expect(logger.messages('error')).toEqual(['cache get failed; falling through']);
    const quiet = new ResponseCache({ backend: new ReferenceBackend() });
    const hits: string[] = [];
    quiet.on('hit', ({ key }) => hits.push(key));
    await quiet.set('k', createEntry('v').value);
    await quiet.get('k');
    expect(hits).toEqual(['k']);
  });
});
