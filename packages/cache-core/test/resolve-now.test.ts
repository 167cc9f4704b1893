import { describe, expect, it } from 'vitest';
import { type CacheEntry, ReferenceBackend, ResponseCache } from '../src/index.js';

// The reference backend answering through promises, as a networked store does.
class AsyncBackend extends ReferenceBackend {
  override get(key: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(super.get(key) as CacheEntry | undefined);
  }
}

describe('resolveNow(): a hit without a promise', () => {
  it('a hit from a synchronous backend is the result itself, counted once, like resolve()', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    await cache.set('k', 'stored', { model: 'm' });
    const result = cache.resolveNow('k', () => 'computed', { model: 'm' });
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ value: 'stored', status: 'hit' });
    expect((result as { entry?: CacheEntry<string> }).entry?.value).toBe('stored');
    expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 0 });
    expect(cache.getMetrics().byModel.m).toMatchObject({ hits: 1 });
  });

  it('a miss is a promise: computed once, stored, counted once as a miss', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    let computed = 0;
    const pending = cache.resolveNow('k', () => {
      computed++;
      return 'fresh';
    });
    expect(pending).toBeInstanceOf(Promise);
    const result = await pending;
    expect(result.status).toBe('miss');
    expect(await result.stored).toBe(true);
    expect(computed).toBe(1);
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 1, sets: 1 });
    expect(cache.resolveNow('k', () => 'again')).toMatchObject({ value: 'fresh', status: 'hit' });
  });

  it('an asynchronous backend: a promise even on a hit, with the same result', async () => {
    const cache = new ResponseCache<string>({ backend: new AsyncBackend() });
    await cache.set('k', 'stored');
    const pending = cache.resolveNow('k', () => 'computed');
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toMatchObject({ value: 'stored', status: 'hit' });
    expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 0 });
  });

  it('per-call rules still apply at once: a value that fails validate, or is older than maxAgeSeconds, is a miss', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    await cache.set('k', 'stored');
    const refused = cache.resolveNow('k', () => 'computed', { validate: (value) => value !== 'stored' });
    expect(refused).toBeInstanceOf(Promise);
    expect(await refused).toMatchObject({ value: 'computed', status: 'miss' });
    await cache.set('old', 'stored');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cache.resolveNow('old', () => 'newer', { maxAgeSeconds: 0.001 })).toMatchObject({ value: 'newer', status: 'miss' });
  });

  it('forceRefresh and a computation in flight are never answered at once', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    await cache.set('k', 'stored');
    const refresh = cache.resolveNow('k', () => 'fresh', { forceRefresh: true });
    expect(refresh).toBeInstanceOf(Promise);
    expect(await refresh).toMatchObject({ value: 'fresh', status: 'refresh' });
    let finish: (value: string) => void = () => {};
    const leader = cache.resolveNow('n', () => new Promise<string>((resolve) => (finish = resolve)));
    const joiner = cache.resolveNow('n', () => 'never');
    expect(joiner).toBeInstanceOf(Promise);
    finish('led');
    expect(await joiner).toMatchObject({ value: 'led', status: 'coalesced' });
    expect(await leader).toMatchObject({ status: 'miss' });
  });

  it('bad options and a closed cache throw at once (resolve() rejects for the same)', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    expect(() => cache.resolveNow('k', () => 'x', { ttl: -1 })).toThrow(/ttl/);
    expect(() => cache.resolveNow('', () => 'x')).toThrow();
    await expect(cache.resolve('k', () => 'x', { ttl: -1 })).rejects.toThrow(/ttl/);
    await cache.close();
    expect(() => cache.resolveNow('k', () => 'x')).toThrow(/after close/);
  });
});
