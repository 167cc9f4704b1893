import { sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { runConformanceSuite } from '../src/conformance/index.js';
import type { CacheBackend } from '../src/contract.js';
import { createEntry } from '../src/create-entry.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';
import { createTieredCache } from '../src/tiered-backend.js';

const store = new Map<string, string>();
runConformanceSuite('tiered(reference+reference)', {
  createBackend: ({ namespace }) => createTieredCache([new ReferenceBackend({ namespace }), new ReferenceBackend({ store, namespace })]),
  staleIfError: true,
});

const leaseStore = new Map<string, string>();
runConformanceSuite('tiered(reference+reference with leases)', {
  createBackend: ({ namespace }) =>
    createTieredCache([new ReferenceBackend({ namespace }), new ReferenceBackend({ store: leaseStore, namespace, leases: true })]),
  leases: true,
  staleIfError: true,
});

/** A tier whose every call fails, as a dead Redis would. */
const deadTier = (): CacheBackend => {
  const fail = () => Promise.reject(new Error('tier down'));
  return { name: 'dead', capabilities: { network: true }, get: fail, set: fail, delete: fail, has: fail, clear: fail, stats: fail, close: async () => {} };
};

describe('tiered cache', () => {
  it('two tiered caches (each its own fast tier) over one leased store compute a missing key once', async () => {
    const shared = new Map<string, string>();
    const caches = [0, 1].map(
      () => new ResponseCache<string>({ backend: createTieredCache([new ReferenceBackend(), new ReferenceBackend({ store: shared, leases: true })]) }),
    );
    let calls = 0;
    const compute = async (): Promise<string> => {
      calls++;
      await sleep(50);
      return 'once';
    };
    const results = await Promise.all(caches.map((cache) => cache.resolve('k', compute)));
    expect(calls).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(['hit', 'miss']);
    await Promise.all(caches.map((cache) => cache.close()));
  });

  it('a hit in a slower tier fills the faster one', async () => {
    const fast = new ReferenceBackend();
    const slow = new ReferenceBackend();
    await slow.set('k', createEntry('from slow', { ttl: 60 }));
    const tiered = createTieredCache([fast, slow]);
    expect((await tiered.get('k'))?.value).toBe('from slow');
    await sleep(10);
    const filled = await fast.get('k');
    expect(filled?.value).toBe('from slow');
    expect(filled?.expiresAt).toBe((await slow.get('k'))?.expiresAt);
  });

  it('writes go to every tier', async () => {
    const [a, b] = [new ReferenceBackend(), new ReferenceBackend()];
    const tiered = createTieredCache([a, b]);
    await tiered.set('k', createEntry('v'));
    expect((await a.get('k'))?.value).toBe('v');
    expect((await b.get('k'))?.value).toBe('v');
  });

  it('a dead tier is skipped: reads and writes still work, and errors are not counted while a tier answers', async () => {
    const cache = new ResponseCache({ backend: createTieredCache([new ReferenceBackend(), deadTier()]) });
    expect(await cache.set('k', 'v')).toBe(true);
    expect(await cache.get('k')).toBe('v');
    expect(cache.getMetrics()).toMatchObject({ hits: 1, sets: 1, errors: 0 });
  });

  it('a hanging tier is skipped after its deadline', async () => {
    const hanging: CacheBackend = { ...deadTier(), name: 'hanging', get: () => new Promise(() => {}) };
    const slow = new ReferenceBackend();
    await slow.set('k', createEntry('v'));
    const tiered = createTieredCache([hanging, slow], { tierTimeoutMs: 50 });
    expect((await tiered.get('k'))?.value).toBe('v');
  });

  it('when every tier fails, the ResponseCache counts one error and misses', async () => {
    const cache = new ResponseCache({ backend: createTieredCache([deadTier(), deadTier()]) });
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ misses: 1, errors: 1 });
  });

  it('rejects an empty tier list', () => {
    expect(() => createTieredCache([])).toThrow(/Invalid option tiers/);
  });
});
