import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheLeases } from '../src/contract.js';
import { ReferenceBackend, ResponseCache } from '../src/index.js';

// Two ResponseCaches on one shared map stand for two processes on one store.
const open: Array<ResponseCache<string>> = [];
function fleet(
  count: number,
  options: { leaseTtlMs?: number; crossProcessFlight?: boolean; timeoutMs?: number } = {},
): {
  caches: Array<ResponseCache<string>>;
  backends: ReferenceBackend[];
} {
  const store = new Map<string, string>();
  const backends = Array.from({ length: count }, () => new ReferenceBackend({ store, leases: true }));
  const caches = backends.map((backend) => new ResponseCache<string>({ backend, ...options }));
  open.push(...caches);
  return { caches, backends };
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((cache) => cache.close()));
});

/** A compute that counts its calls and answers after ms. */
function slowCompute(ms: number): { calls: () => number; compute: () => Promise<string> } {
  let calls = 0;
  return {
    calls: () => calls,
    compute: async () => {
      calls++;
      await sleep(ms);
      return `answer ${calls}`;
    },
  };
}

describe('cross-process single flight (leases)', () => {
  it('several caches on one store missing one key compute it once; the others read its entry (hit, remote)', async () => {
    const { caches } = fleet(3);
    const upstream = slowCompute(100);
    const results = await Promise.all(caches.map((cache) => cache.resolve('k', upstream.compute)));
    expect(upstream.calls()).toBe(1);
    expect(results.map((r) => r.value)).toEqual(['answer 1', 'answer 1', 'answer 1']);
    expect(results.map((r) => r.status).sort()).toEqual(['hit', 'hit', 'miss']);
    const remote = results.filter((r) => r.remote === true);
    expect(remote).toHaveLength(2);
    for (const r of remote) expect(r.entry?.value).toBe('answer 1');
    const metrics = caches.map((cache) => cache.getMetrics());
    expect(metrics.reduce((sum, m) => sum + m.coalescedRemote, 0)).toBe(2);
    expect(metrics.reduce((sum, m) => sum + m.misses, 0)).toBe(3);
    expect(metrics.reduce((sum, m) => sum + m.hits, 0)).toBe(0);
    expect(metrics.reduce((sum, m) => sum + m.sets, 0)).toBe(1);
    expect(metrics.every((m) => m.errors === 0)).toBe(true);
  });

  it('in-process callers join the one flight that waits for another process (coalesced, not a second wait)', async () => {
    const { caches, backends } = fleet(2);
    const [a, b] = caches as [ResponseCache<string>, ResponseCache<string>];
    let acquires = 0;
    const leases = backends[1]?.leases as CacheLeases;
    const acquire = leases.acquire.bind(leases);
    leases.acquire = (key, ttlMs) => {
      acquires++;
      return acquire(key, ttlMs);
    };
    const upstream = slowCompute(80);
    const leader = a.resolve('k', upstream.compute);
    await sleep(10);
    const waiters = await Promise.all(Array.from({ length: 5 }, () => b.resolve('k', upstream.compute)));
    expect((await leader).status).toBe('miss');
    expect(upstream.calls()).toBe(1);
    expect(waiters.map((r) => r.status).sort()).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'hit']);
    expect(acquires).toBe(1);
    expect(b.getMetrics()).toMatchObject({ coalesced: 4, coalescedRemote: 1, misses: 5 });
    expect(await Promise.all(waiters.map((r) => r.stored ?? Promise.resolve(true)))).toEqual([true, true, true, true, true]);
  });

  it('a holder that wrote and released between this miss and its acquire: the entry is served, not computed again', async () => {
    const { caches, backends } = fleet(2);
    const [a, b] = caches as [ResponseCache<string>, ResponseCache<string>];
    await a.resolve('k', () => 'from a');
    await a.flush();
    // b's first read happened "before" a's write: it saw nothing.
    const backend = backends[1] as ReferenceBackend;
    const get = backend.get.bind(backend);
    let reads = 0;
    backend.get = (key: string) => (++reads === 1 ? undefined : get(key));
    const result = await b.resolve('k', () => 'computed again');
    expect(result).toMatchObject({ status: 'hit', remote: true, value: 'from a' });
    // The lease it took alongside is given back.
    expect(typeof (await backends[0]?.leases?.acquire('k', 1000))).toBe('string');
  });

  it("a holder that wrote and released between this caller's reread and its acquire: the entry is served, not computed again", async () => {
    // The lease is asked for before the entry is read again: in the other order, a holder that
    // finished in between left no lease to find and an entry already read past (SQLite, 8 processes).
    const { caches, backends } = fleet(2);
    const holder = backends[0] as ReferenceBackend;
    const token = (await holder.leases?.acquire('k', 10_000)) as string;
    const backend = backends[1] as ReferenceBackend;
    const get = backend.get.bind(backend);
    let reads = 0;
    backend.get = (key: string) => {
      const seen = get(key);
      // Right after b's second read (takeTurn's), the holder finishes: writes its entry, then releases.
      if (++reads === 2) {
        const now = Date.now();
        holder.set(key, { value: 'from the holder', createdAt: now, expiresAt: null, accessCount: 0, lastAccess: now, sizeBytes: 17 });
        holder.leases?.release(key, token);
      }
      return seen;
    };
    const result = await caches[1]?.resolve('k', () => 'computed again');
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(result).toMatchObject({ status: 'hit', remote: true, value: 'from the holder' });
  });

  it('the leader renews its lease while it computes, so a long computation is not taken over', async () => {
    const { caches } = fleet(2, { leaseTtlMs: 100 });
    const upstream = slowCompute(500);
    const first = caches[0]?.resolve('k', upstream.compute);
    await sleep(20);
    const second = await caches[1]?.resolve('k', upstream.compute);
    expect(upstream.calls()).toBe(1);
    expect(second).toMatchObject({ status: 'hit', remote: true, value: 'answer 1' });
    expect((await first)?.status).toBe('miss');
  });

  it('a leader that died (its lease is never released) is replaced once the lease lapses', async () => {
    const { caches, backends } = fleet(2, { leaseTtlMs: 200 });
    // A process that took the lease and died: nobody renews or releases it.
    expect(typeof (await backends[0]?.leases?.acquire('k', 200))).toBe('string');
    const upstream = slowCompute(10);
    const result = await caches[1]?.resolve('k', upstream.compute);
    expect(result).toMatchObject({ status: 'miss', value: 'answer 1' });
    expect(upstream.calls()).toBe(1);
  });

  it('a leader whose computation fails releases its lease: one waiter takes over and the rest follow it', async () => {
    const { caches } = fleet(3, { leaseTtlMs: 30_000 });
    let calls = 0;
    const compute = async (): Promise<string> => {
      calls++;
      await sleep(50);
      if (calls === 1) throw new Error('upstream failed');
      return 'second try';
    };
    const results = await Promise.allSettled(caches.map((cache) => cache.resolve('k', compute)));
    expect(calls).toBe(2);
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : 'rejected')).sort();
    expect(statuses).toEqual(['hit', 'miss', 'rejected']);
  });

  it('an answer that may not be stored (shouldStore says no) releases the lease; a waiter then computes its own', async () => {
    const { caches } = fleet(2, { leaseTtlMs: 30_000 });
    const upstream = slowCompute(50);
    const first = caches[0]?.resolve('k', upstream.compute, { shouldStore: () => false });
    await sleep(10);
    const second = await caches[1]?.resolve('k', upstream.compute);
    expect((await first)?.status).toBe('miss');
    expect(second).toMatchObject({ status: 'miss', value: 'answer 2' });
  });

  it('forceRefresh and noStore never join or lead: they compute even while another process holds the lease', async () => {
    const { caches, backends } = fleet(2, { leaseTtlMs: 30_000 });
    const token = await backends[0]?.leases?.acquire('k', 30_000);
    expect(typeof token).toBe('string');
    const b = caches[1] as ResponseCache<string>;
    expect(await b.resolve('k', () => 'refreshed', { forceRefresh: true })).toMatchObject({ status: 'refresh', value: 'refreshed' });
    await b.flush();
    await b.delete('k');
    expect(await b.resolve('k', () => 'not stored', { noStore: true })).toMatchObject({ status: 'miss', value: 'not stored' });
    // Neither took the lease: it is still the first holder's.
    expect(await backends[0]?.leases?.release('k', token as string)).toBe(true);
  });

  it('crossProcessFlight: false computes at once even while another process holds the lease', async () => {
    const { caches, backends } = fleet(2, { crossProcessFlight: false });
    expect(caches[0]?.crossProcessFlight).toBe(false);
    await backends[0]?.leases?.acquire('k', 30_000);
    expect(await caches[1]?.resolve('k', () => 'mine')).toMatchObject({ status: 'miss', value: 'mine' });
  });

  it('a backend without leases keeps single flight in-process (crossProcessFlight reads false)', () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    open.push(cache as ResponseCache<string>);
    expect(cache.crossProcessFlight).toBe(false);
    expect(cache.leaseTtlMs).toBe(5000);
  });

  it('close() lets the release go out before the backend closes (a waiter elsewhere is not left to the lapse)', async () => {
    const { caches, backends } = fleet(2, { leaseTtlMs: 30_000 });
    await caches[0]?.resolve('k', () => 'answer');
    await caches[0]?.close();
    expect(caches[0]?.getMetrics().errors).toBe(0);
    expect(typeof (await backends[1]?.leases?.acquire('k', 1000))).toBe('string');
  });

  it('hits take no lock', async () => {
    const { caches, backends } = fleet(1);
    const leases = backends[0]?.leases as CacheLeases;
    let calls = 0;
    for (const method of ['acquire', 'renew', 'release', 'waitForOutcome'] as const) {
      const original = leases[method].bind(leases) as (...args: unknown[]) => unknown;
      (leases as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        calls++;
        return original(...args);
      };
    }
    const cache = caches[0] as ResponseCache<string>;
    await cache.set('k', 'stored');
    for (let i = 0; i < 10; i++) expect((await cache.resolve('k', () => 'never')).status).toBe('hit');
    expect(calls).toBe(0);
    await cache.resolve('other', () => 'computed');
    await cache.flush();
    expect(calls).toBe(2); // acquire, then release after the write
  });

  it('leases that fail or hang mean "compute here", within the deadline, counted as errors', async () => {
    const { caches, backends } = fleet(2, { timeoutMs: 50 });
    const failing = backends[0]?.leases as CacheLeases;
    failing.acquire = () => Promise.reject(new Error('store down'));
    expect(await caches[0]?.resolve('a', () => 'computed')).toMatchObject({ status: 'miss', value: 'computed' });
    expect(caches[0]?.getMetrics().errors).toBe(1);
    const hanging = backends[1]?.leases as CacheLeases;
    hanging.acquire = () => new Promise(() => {});
    expect(await caches[1]?.resolve('b', () => 'computed')).toMatchObject({ status: 'miss', value: 'computed' });
    expect(caches[1]?.getMetrics().errors).toBe(1);
    hanging.acquire = () => 'unavailable';
    expect(await caches[1]?.resolve('c', () => 'computed')).toMatchObject({ status: 'miss', value: 'computed' });
    expect(caches[1]?.getMetrics().errors).toBe(2);
  });

  it('a wait that fails means "compute here", counted', async () => {
    const { caches, backends } = fleet(2);
    await backends[0]?.leases?.acquire('k', 30_000);
    const leases = backends[1]?.leases as CacheLeases;
    leases.waitForOutcome = () => Promise.reject(new Error('subscriber down'));
    expect(await caches[1]?.resolve('k', () => 'computed')).toMatchObject({ status: 'miss', value: 'computed' });
    expect(caches[1]?.getMetrics().errors).toBe(1);
  });

  it("a waiter applies its call's own validate to the entry another process wrote", async () => {
    const { caches } = fleet(2, { leaseTtlMs: 30_000 });
    const first = caches[0]?.resolve('k', async () => {
      await sleep(50);
      return 'from a';
    });
    await sleep(10);
    const second = await caches[1]?.resolve('k', () => 'from b', { validate: (value) => value === 'from b' });
    expect((await first)?.value).toBe('from a');
    expect(second).toMatchObject({ status: 'miss', value: 'from b' });
  });
});
