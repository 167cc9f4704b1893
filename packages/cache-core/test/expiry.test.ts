import { describe, expect, it } from 'vitest';
import type { CacheBackend } from '../src/contract.js';
import { createEntry } from '../src/create-entry.js';
import type { CacheEntry } from '../src/entry.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

/** A hand-written backend (no BackendBase) that returns whatever it holds, expired or not. */
function careless(): CacheBackend & { store: Map<string, CacheEntry>; deletes: string[] } {
  const store = new Map<string, CacheEntry>();
  const deletes: string[] = [];
  return {
    name: 'careless',
    capabilities: {},
    store,
    deletes,
    get: (key) => store.get(key),
    set: (key, entry) => {
      store.set(key, entry);
    },
    delete: (key) => {
      deletes.push(key);
      return store.delete(key);
    },
    has: (key) => store.has(key),
    clear: () => store.size,
    stats: () => ({ entries: store.size }),
    close: () => {},
  };
}

const expired = (value: unknown): CacheEntry => ({ ...createEntry(value), expiresAt: Date.now() - 1 });

describe('expiry is checked in the core', () => {
  it('ResponseCache: an expired entry a backend returns is a miss, and is deleted in the background', async () => {
    const backend = careless();
    backend.store.set('k', expired('stale'));
    const cache = new ResponseCache({ backend });
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 1, errors: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend.deletes).toEqual(['k']);
    expect(backend.store.has('k')).toBe(false);
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
  });

  it('ResponseCache: an unexpired entry of the same backend is a hit', async () => {
    const backend = careless();
    backend.store.set('k', createEntry('live', { ttl: 60 }));
    const cache = new ResponseCache({ backend });
    expect(await cache.get('k')).toBe('live');
  });

  it('BackendBase: get() drops an expired entry its storage returns, and removes it', async () => {
    const store = new Map<string, string>();
    const backend = new ReferenceBackend({ store });
    await backend.set('k', createEntry('v', { ttl: 60 }));
    // Age the stored entry behind the backend's back.
    const [[raw, value]] = [...store] as [[string, string]];
    store.set(
      raw,
      value.replace(/^tlc1:\[(\d+),(\d+)/, (_m, created) => `tlc1:[${created},${Date.now() - 1}`),
    );
    expect(await backend.get('k')).toBeUndefined();
    expect(store.size).toBe(0);
    expect(await backend.has('k')).toBe(false);
  });
});
