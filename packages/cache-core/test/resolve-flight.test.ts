import { describe, expect, it } from 'vitest';
import { ReferenceBackend, ResponseCache } from '../src/index.js';

describe('resolve(): what a flight shares with its joiners', () => {
  it('joiners receive the handle the leader published, before the value is ready', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    let finish: (value: string) => void = () => {};
    const leader = cache.resolve('k', (flight) => {
      flight.publish('live-handle');
      return new Promise<string>((resolve) => {
        finish = resolve;
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    const seen: unknown[] = [];
    const joiner = cache.resolve('k', () => 'never', { onJoin: (handle) => seen.push(handle) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['live-handle']);
    finish('answer');
    expect((await joiner).status).toBe('coalesced');
    expect((await leader).status).toBe('miss');
  });

  it('a handle published after a caller joined still reaches it', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    let publish: (handle: unknown) => void = () => {};
    const leader = cache.resolve(
      'k',
      (flight) =>
        new Promise<string>((resolve) => {
          publish = (handle) => {
            flight.publish(handle);
            resolve('done');
          };
        }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const seen: unknown[] = [];
    const joiner = cache.resolve('k', () => 'never', { onJoin: (handle) => seen.push(handle) });
    publish('late-handle');
    await Promise.all([leader, joiner]);
    expect(seen).toEqual(['late-handle']);
  });

  it('stored says whether the answer reached the store, for the leader and its joiners', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    const kept = await cache.resolve('a', () => 'kept');
    expect(await kept.stored).toBe(true);
    const skipped = await cache.resolve('b', () => 'skipped', { noStore: true });
    expect(await skipped.stored).toBe(false);
    const refused = await cache.resolve('c', () => 'refused', { shouldStore: () => false });
    expect(await refused.stored).toBe(false);
    const hit = await cache.resolve('a', () => 'never');
    expect(hit.status).toBe('hit');
    expect(hit.stored).toBeUndefined();
  });

  it('a failed write is stored: false, never a rejection', async () => {
    const backend = new ReferenceBackend();
    backend.set = () => Promise.reject(new Error('disk full'));
    const cache = new ResponseCache<string>({ backend });
    const result = await cache.resolve('k', () => 'v');
    expect(await result.stored).toBe(false);
    expect(cache.getMetrics().errors).toBe(1);
  });

  it('a per-call validate turns a mismatched record into a miss plus an error, then overwrites it', async () => {
    const cache = new ResponseCache<{ kind: string }>({ backend: new ReferenceBackend() });
    await cache.set('k', { kind: 'chat' });
    const result = await cache.resolve('k', () => ({ kind: 'generate' }), { validate: (value) => value.kind === 'generate' });
    expect(result.status).toBe('miss');
    expect(cache.getMetrics().errors).toBe(1);
    await result.stored;
    expect(await cache.get('k')).toEqual({ kind: 'generate' });
  });

  it('rejects a maxAgeSeconds that is not a number of seconds >= 0', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    await expect(cache.resolve('k', () => 'v', { maxAgeSeconds: -1 })).rejects.toMatchObject({ code: 'TINYLLM_INVALID_OPTION' });
  });

  it('maxAgeSeconds treats an older entry as a miss (not an error) and replaces it', async () => {
    const backend = new ReferenceBackend();
    const cache = new ResponseCache<string>({ backend });
    await cache.set('k', 'old');
    const entry = await backend.get('k');
    if (entry === undefined) throw new Error('expected an entry');
    await backend.set('k', { ...entry, createdAt: Date.now() - 10_000 });
    expect((await cache.resolve('k', () => 'fresh', { maxAgeSeconds: 60 })).status).toBe('hit');
    const result = await cache.resolve('k', () => 'fresh', { maxAgeSeconds: 5 });
    expect(result).toMatchObject({ status: 'miss', value: 'fresh' });
    expect(cache.getMetrics().errors).toBe(0);
    await result.stored;
    expect(await cache.get('k')).toBe('fresh');
  });
});

describe('resolve(): counting a rejected entry', () => {
  it('an entry refused by validate or maxAgeSeconds counts as a miss, not a hit', async () => {
    const backend = new ReferenceBackend();
    const cache = new ResponseCache<string>({ backend });
    await cache.set('k', 'stored');
    const entry = await backend.get('k');
    if (entry === undefined) throw new Error('expected an entry');
    await backend.set('k', { ...entry, createdAt: Date.now() - 2_000 });
    await cache.resolve('k', () => 'fresh', { validate: () => false, noStore: true });
    await cache.resolve('k', () => 'fresh', { maxAgeSeconds: 1, noStore: true });
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 2, errors: 1 });
  });
});
