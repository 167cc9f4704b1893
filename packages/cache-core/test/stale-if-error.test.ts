import { sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { CODEC_TAG, decodeEntry, encodeEntry } from '../src/codec.js';
import type { CacheBackend } from '../src/contract.js';
import { createEntry } from '../src/create-entry.js';
import { isStale } from '../src/entry.js';
import { InvalidOptionError } from '../src/errors.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

const down = (): never => {
  throw new Error('upstream down');
};

// An entry that expired a moment ago, within a window of windowSeconds.
async function expiredEntry(cache: ResponseCache<string>, key: string, value: string): Promise<void> {
  await cache.set(key, value, { ttl: 0.05 });
  await sleep(80);
}

describe('stale-if-error in ResponseCache', () => {
  it('a fresh entry is a hit even when compute would fail; it is never reported stale', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend(), staleIfErrorTtl: 60 });
    await cache.set('k', 'fresh', { ttl: 60 });
    const result = await cache.resolve('k', down);
    expect(result.status).toBe('hit');
    expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 0, stale: 0 });
  });

  it('an expired entry within its window is a miss; when compute fails it is served as stale, counted, never as a hit', async () => {
    const backend: CacheBackend = new ReferenceBackend();
    const recorded: unknown[] = [];
    backend.recordCounters = (delta) => {
      recorded.push(delta);
    };
    const cache = new ResponseCache<string>({ backend, staleIfErrorTtl: 60 });
    await expiredEntry(cache, 'k', 'old answer');
    expect(await cache.get('k')).toBeUndefined();
    const result = await cache.resolve('k', down);
    expect(result).toMatchObject({ value: 'old answer', status: 'stale' });
    expect(result.entry && isStale(result.entry)).toBe(true);
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 2, stale: 1 });
    expect(recorded).toContainEqual({ stale: 1 });
    // Compute succeeds: a plain miss, and the fresh value replaces the stale one.
    const fresh = await cache.resolve('k', () => 'new answer');
    expect(fresh.status).toBe('miss');
    await fresh.stored;
    expect(await cache.get('k')).toBe('new answer');
  });

  it('every caller that joined the failed computation gets the stale answer', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend(), staleIfErrorTtl: 60 });
    await expiredEntry(cache, 'k', 'old');
    const slowFailure = async (): Promise<string> => {
      await sleep(30);
      throw new Error('upstream 500');
    };
    const results = await Promise.all([cache.resolve('k', slowFailure), cache.resolve('k', slowFailure), cache.resolve('k', slowFailure)]);
    expect(results.map((r) => r.status)).toEqual(['stale', 'stale', 'stale']);
    expect(cache.getMetrics()).toMatchObject({ stale: 3, coalesced: 2 });
  });

  it('beyond the window, or when the failure does not qualify, the error comes through', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend(), staleIfErrorTtl: 0.1 });
    await expiredEntry(cache, 'k', 'old');
    await expect(cache.resolve('k', down, { staleIfError: () => false })).rejects.toThrow('upstream down');
    await expect(cache.resolve('k', down, { maxStaleSeconds: 0.01 })).rejects.toThrow('upstream down');
    await expect(cache.resolve('k', down, { forceRefresh: true })).rejects.toThrow('upstream down');
    await sleep(120);
    await expect(cache.resolve('k', down)).rejects.toThrow('upstream down');
    expect(cache.getMetrics().stale).toBe(0);
  });

  it('off by default: nothing is kept past its TTL', async () => {
    const backend = new ReferenceBackend();
    const cache = new ResponseCache<string>({ backend });
    await expiredEntry(cache, 'k', 'old');
    await expect(cache.resolve('k', down, { maxStaleSeconds: 60 })).rejects.toThrow('upstream down');
    expect(await backend.getStale('k')).toBeUndefined();
  });

  it('a backend written against the old contract (no getStale) keeps working: stale never happens', async () => {
    const inner = new ReferenceBackend();
    const old: CacheBackend = {
      name: 'old',
      capabilities: {},
      get: (key) => inner.get(key),
      set: (key, entry) => inner.set(key, entry),
      delete: (key) => inner.delete(key),
      has: (key) => inner.has(key),
      clear: () => inner.clear(),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    const cache = new ResponseCache<string>({ backend: old, staleIfErrorTtl: 60 });
    await expiredEntry(cache, 'k', 'old');
    await expect(cache.resolve('k', down)).rejects.toThrow('upstream down');
    expect((await cache.resolve('k', () => 'new')).status).toBe('miss');
  });

  it('stats count entries kept only for stale-if-error as stale, not as entries', async () => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend(), staleIfErrorTtl: 60 });
    await cache.set('live', 'v', { ttl: 60 });
    await expiredEntry(cache, 'k', 'old');
    expect((await cache.getStats()).backend).toMatchObject({ entries: 1, stale: 1 });
  });

  it('refuses a bad window with InvalidOptionError', () => {
    for (const bad of [-1, null, Number.NaN, 'x', 400_000_000]) {
      expect(() => new ResponseCache({ backend: new ReferenceBackend(), staleIfErrorTtl: bad as number })).toThrow(InvalidOptionError);
    }
    expect(() => new ResponseCache({ backend: new ReferenceBackend(), staleIfErrorTtl: 0 })).not.toThrow();
  });
});

describe('the codec and stale windows', () => {
  it('reads entries written before the window existed (7 fields) as having none, and round trips one with a window', () => {
    const old = `${CODEC_TAG}[1700000000000,1700000060000,2,1700000001000,4,"m:latest","hi"]`;
    const decoded = decodeEntry(old);
    expect(decoded).toMatchObject({ value: 'hi', expiresAt: 1_700_000_060_000, accessCount: 2 });
    expect(decoded.staleUntil).toBeUndefined();
    const plain = createEntry('v', { ttl: 60, now: 1_700_000_000_000 });
    expect(encodeEntry(plain)).toBe(`${CODEC_TAG}[1700000000000,1700000060000,0,1700000000000,1,null,"v"]`);
    const kept = createEntry({ a: 1 }, { ttl: 60, staleIfErrorTtl: 30, now: 1_700_000_000_000 });
    expect(kept.staleUntil).toBe(1_700_000_090_000);
    expect(decodeEntry(encodeEntry(kept))).toEqual(kept);
    expect(createEntry('v', { ttl: null, staleIfErrorTtl: 30 }).staleUntil).toBeUndefined();
    expect(() => decodeEntry(`${CODEC_TAG}[1,2,0,1,3,null,"bad","v"]`)).toThrow();
  });
});
