import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheBackend, CacheLeases } from '../contract.js';
import { createEntry } from '../create-entry.js';
import type { CacheEntry } from '../entry.js';
import { BackendClosedError, InvalidOptionError } from '../errors.js';
import { listingCases } from './listing-cases.js';
import type { ConformanceCase, ConformanceOptions } from './options.js';

const MiB = 1024 * 1024;

/** Every byte value 0-255 as a character, plus astral and combining characters: what "binary-safe" means for string payloads. */
const BINARY_STRING = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('') + '\u2028\u2029\uFEFF😀👩‍👩‍👧e\u0301';

/** An entry whose expiry has just passed (a TTL of 0 is refused by createEntry, on purpose). */
function elapsedEntry(value: unknown): CacheEntry {
  return { ...createEntry(value), expiresAt: Date.now() - 1 };
}

/** Values JSON cannot carry: every backend refuses them alike. */
const UNSTORABLE: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['a function', () => 'not data'],
  ['a symbol', Symbol('not data')],
  ['a BigInt', 42n],
  ['a BigInt inside an object', { count: 42n }],
];

/**
 * The conformance cases for the backend that options create, as plain async functions using
 * node:assert; runConformanceSuite registers them with vitest, and any other runner can call them.
 */
export function conformanceCases(options: ConformanceOptions): ConformanceCase[] {
  const ttlMs = options.ttlMs ?? 300;
  const open = new Set<CacheBackend>();
  const backend = async (namespace: string = `ns-${randomUUID()}`): Promise<CacheBackend> => {
    const created = await options.createBackend({ namespace });
    open.add(created);
    return created;
  };
  const closeAll = async () => {
    await Promise.allSettled([...open].map((b) => b.close()));
    open.clear();
  };
  const withBackends = (run: (make: typeof backend) => Promise<void>) => async (): Promise<void> => {
    try {
      await run(backend);
    } finally {
      await closeAll();
    }
  };
  const key = () => `key-${randomUUID()}`;

  const cases: ConformanceCase[] = [
    {
      name: 'a missing key is a miss (undefined) and has() is false',
      run: withBackends(async (make) => {
        const b = await make();
        assert.equal(await b.get(key()), undefined);
        assert.equal(await b.has(key()), false);
      }),
    },
    {
      name: 'round trips values and metadata: object, unicode, empty, binary-safe string, 1 MiB',
      run: withBackends(async (make) => {
        const b = await make();
        const values: unknown[] = [
          { response: 'hello', done: true, eval_count: 3, nested: { list: [1, 2.5, null, true] } },
          'Grüße, 世界! 🚀 עברית ‍',
          '',
          BINARY_STRING,
          randomBytes(MiB * 0.75).toString('base64'),
          { response: 'x'.repeat(MiB) },
        ];
        for (const value of values) {
          const k = key();
          const entry = createEntry(value, { ttl: 60, model: 'm:latest' });
          await b.set(k, entry);
          const got = await b.get(k);
          assert.ok(got, 'the entry just set is found');
          assert.deepEqual(got.value, value);
          assert.equal(got.createdAt, entry.createdAt);
          assert.equal(got.expiresAt, entry.expiresAt);
          assert.equal(got.sizeBytes, entry.sizeBytes);
          assert.equal(got.model, 'm:latest');
        }
      }),
    },
    {
      name: 'a set overwrites the previous value',
      run: withBackends(async (make) => {
        const b = await make();
        const k = key();
        await b.set(k, createEntry('first'));
        await b.set(k, createEntry('second'));
        assert.equal((await b.get(k))?.value, 'second');
      }),
    },
    {
      name: 'delete removes the entry and says whether one was there; has follows',
      run: withBackends(async (make) => {
        const b = await make();
        const k = key();
        await b.set(k, createEntry('v'));
        assert.equal(await b.has(k), true);
        assert.equal(await b.delete(k), true);
        assert.equal(await b.has(k), false);
        assert.equal(await b.get(k), undefined);
        assert.equal(await b.delete(k), false);
      }),
    },
    {
      name: 'an entry expires after its TTL, in real time',
      run: withBackends(async (make) => {
        const b = await make();
        const k = key();
        const entry = createEntry('short-lived');
        entry.expiresAt = Date.now() + ttlMs;
        await b.set(k, entry);
        assert.equal((await b.get(k))?.value, 'short-lived');
        await sleep(ttlMs + 250);
        assert.equal(await b.get(k), undefined, 'expired entry must not be returned');
        assert.equal(await b.has(k), false);
      }),
    },
    {
      name: 'an already-elapsed TTL stores nothing and removes an older value',
      run: withBackends(async (make) => {
        const b = await make();
        const fresh = key();
        await b.set(fresh, elapsedEntry('never'));
        assert.equal(await b.get(fresh), undefined);
        assert.equal((await b.stats()).entries, 0);
        const old = key();
        await b.set(old, createEntry('old', { ttl: 60 }));
        await b.set(old, elapsedEntry('elapsed'));
        assert.equal(await b.get(old), undefined);
        assert.equal(await b.has(old), false);
      }),
    },
    {
      name: 'a value JSON cannot carry (undefined, a function, a symbol, a BigInt) is refused: set resolves false, nothing is stored, the old value goes',
      run: withBackends(async (make) => {
        const b = await make();
        for (const [label, value] of UNSTORABLE) {
          const k = key();
          await b.set(k, createEntry('old'));
          const outcome = await b.set(k, { ...createEntry('x'), value });
          assert.equal(outcome, false, `set of ${label} resolves false`);
          assert.equal(await b.get(k), undefined, `nothing is stored for ${label}, and the old value is gone`);
        }
        assert.equal((await b.stats()).entries, 0);
      }),
    },
    {
      name: 'an entry without TTL persists',
      run: withBackends(async (make) => {
        const b = await make();
        const k = key();
        await b.set(k, createEntry('forever', { ttl: null }));
        await sleep(ttlMs + 250);
        const got = await b.get(k);
        assert.equal(got?.value, 'forever');
        assert.equal(got?.expiresAt, null);
      }),
    },
    {
      name: 'stats count the entries of this namespace',
      run: withBackends(async (make) => {
        const b = await make();
        for (let i = 0; i < 5; i++) await b.set(key(), createEntry({ i }));
        const stats = await b.stats();
        assert.equal(stats.entries, 5);
        if (stats.bytes !== undefined) assert.ok(stats.bytes > 0, 'bytes, when reported, are positive');
      }),
    },
    {
      name: 'clear removes only its own namespace and returns how many went',
      run: withBackends(async (make) => {
        const a = await make();
        const b = await make();
        for (let i = 0; i < 3; i++) await a.set(`a-${i}`, createEntry(i));
        for (let i = 0; i < 2; i++) await b.set(`b-${i}`, createEntry(i));
        assert.equal(await a.clear(), 3);
        assert.equal(await a.get('a-0'), undefined);
        assert.equal((await a.stats()).entries, 0);
        assert.equal((await b.get('b-1'))?.value, 1);
        assert.equal((await b.stats()).entries, 2);
      }),
    },
    {
      name: 'clear({ namespace }) and stats({ namespace }) touch only the keys that start with "namespace:"',
      run: withBackends(async (make) => {
        const b = await make();
        const keys = ['tenant-a:1', 'tenant-a:2', 'tenant-ab:1', 'tenant-b:1', 'tenant-a', 'plain', 'q*[x]:1', 'qzx:1'];
        for (const k of keys) await b.set(k, createEntry(k));
        assert.equal((await b.stats({ namespace: 'tenant-a' })).entries, 2);
        assert.equal((await b.stats()).entries, keys.length);
        assert.equal(await b.clear({ namespace: 'tenant-a' }), 2);
        assert.equal(await b.get('tenant-a:1'), undefined);
        for (const kept of ['tenant-ab:1', 'tenant-b:1', 'tenant-a', 'plain', 'q*[x]:1']) assert.equal((await b.get(kept))?.value, kept, `${kept} is kept`);
        // Glob characters in a namespace are literal: "q*[x]:" as a pattern would also match "qzx:1".
        assert.equal(await b.clear({ namespace: 'q*[x]' }), 1);
        assert.equal((await b.get('qzx:1'))?.value, 'qzx:1');
        assert.equal((await b.stats()).entries, keys.length - 3);
        await assert.rejects(
          async () => b.clear({ namespace: '' }),
          (error: unknown) => InvalidOptionError.isInstance(error),
        );
      }),
    },
    {
      name: 'two namespaces on one store never see each other',
      run: withBackends(async (make) => {
        const a = await make();
        const b = await make();
        const k = key();
        await a.set(k, createEntry('from a'));
        assert.equal(await b.get(k), undefined);
        assert.equal(await b.has(k), false);
        await b.set(k, createEntry('from b'));
        assert.equal((await a.get(k))?.value, 'from a');
        assert.equal((await b.get(k))?.value, 'from b');
        assert.equal(await b.delete(k), true);
        assert.equal((await a.get(k))?.value, 'from a');
      }),
    },
    {
      name: 'concurrent sets of one key leave one whole value',
      run: withBackends(async (make) => {
        const b = await make();
        const k = key();
        const values = Array.from({ length: 32 }, (_, i) => ({
          writer: i,
          body: String(i)
            .padStart(4, '0')
            .repeat(16 * 1024),
        }));
        await Promise.all(values.map((value) => b.set(k, createEntry(value))));
        const got = (await b.get(k))?.value as { writer: number; body: string } | undefined;
        assert.ok(got, 'one value is stored');
        assert.deepEqual(got, values[got.writer], "the stored value is one writer's whole value");
      }),
    },
    {
      name: 'close is idempotent and later calls fail with BackendClosedError',
      run: withBackends(async (make) => {
        const b = await make();
        await b.set('k', createEntry('v'));
        await b.close();
        await b.close();
        for (const call of [() => b.get('k'), () => b.set('k', createEntry('v')), () => b.delete('k'), () => b.has('k'), () => b.clear()]) {
          await assert.rejects(
            async () => call(),
            (error: unknown) => BackendClosedError.isInstance(error),
          );
        }
      }),
    },
  ];

  if (options.createBoundedBackend) {
    const createBounded = options.createBoundedBackend;
    cases.push({
      name: 'a bounded backend evicts to stay within maxEntries, and says so',
      run: async () => {
        const b = await createBounded({ namespace: `ns-${randomUUID()}`, maxEntries: 10 });
        try {
          const evicted: string[] = [];
          b.onEviction?.((k) => evicted.push(k));
          for (let i = 0; i < 25; i++) await b.set(`k${i}`, createEntry(i));
          const stats = await b.stats();
          assert.ok(stats.entries <= 10, `entries ${stats.entries} <= 10`);
          assert.equal((await b.get('k24'))?.value, 24, 'the newest entry survives');
          assert.ok((stats.evictions ?? evicted.length) >= 15, 'evictions are counted');
        } finally {
          await b.close();
        }
      },
    });
  }

  cases.push({
    name: `declares capabilities.shared ${options.shared ? 'true' : 'false (or leaves it out)'}, as the suite was told`,
    run: withBackends(async (make) => {
      const b = await make();
      assert.equal(
        b.capabilities.shared === true,
        options.shared === true,
        options.shared
          ? 'the suite was told shared: true, the backend does not say so'
          : 'the backend says shared: pass { shared: true } to run the shared cases',
      );
    }),
  });

  if (options.shared) {
    cases.push({
      name: 'shared: another instance on the same namespace sees writes, deletes and clears',
      run: withBackends(async (make) => {
        const namespace = `ns-${randomUUID()}`;
        const a = await make(namespace);
        const b = await make(namespace);
        const k = key();
        await a.set(k, createEntry('shared value'));
        assert.equal((await b.get(k))?.value, 'shared value');
        await b.delete(k);
        assert.equal(await a.get(k), undefined);
        await a.set(k, createEntry('again'));
        assert.equal(await b.clear(), 1);
        assert.equal(await a.get(k), undefined);
      }),
    });
  }

  cases.push(...listingCases(options, withBackends));
  cases.push({
    name: `declares leases ${options.leases ? '(CacheLeases)' : 'not at all'}, as the suite was told`,
    run: withBackends(async (make) => {
      const b = await make();
      assert.equal(
        b.leases !== undefined,
        options.leases === true,
        options.leases
          ? 'the suite was told leases: true, the backend has no `leases`'
          : 'the backend has `leases`: pass { leases: true } to run the lease cases',
      );
    }),
  });

  cases.push({
    name: `declares capabilities.staleIfError ${options.staleIfError ? 'true (and getStale)' : 'false (or leaves it out)'}, as the suite was told`,
    run: withBackends(async (make) => {
      const b = await make();
      const declares = b.capabilities.staleIfError === true && typeof b.getStale === 'function';
      assert.equal(
        declares,
        options.staleIfError === true,
        options.staleIfError
          ? 'the suite was told staleIfError: true, the backend does not declare it (or has no getStale)'
          : 'the backend declares staleIfError: pass { staleIfError: true } to run the stale cases',
      );
    }),
  });

  if (options.leases) cases.push(...leaseCases(backend, withBackends, key));
  if (options.staleIfError) {
    cases.push({
      name: 'stale-if-error: past its TTL an entry is never served by get or has, getStale returns it until staleUntil, then nothing',
      run: withBackends(async (make) => {
        const b = await make();
        const getStale = (k: string) => (b.getStale as (key: string) => ReturnType<CacheBackend['get']>).call(b, k);
        const kept = key();
        const plain = key();
        const windowMs = ttlMs + 1000;
        const entry = createEntry('kept for errors', { model: 'm:latest' });
        entry.expiresAt = Date.now() + ttlMs;
        entry.staleUntil = entry.expiresAt + windowMs;
        await b.set(kept, entry);
        const other = createEntry('no window');
        other.expiresAt = entry.expiresAt;
        await b.set(plain, other);
        assert.equal((await getStale(kept))?.value, 'kept for errors', 'getStale also answers a fresh entry');
        await sleep(ttlMs + 250);
        assert.equal(await b.get(kept), undefined, 'an expired entry is never served by get, window or not');
        assert.equal(await b.has(kept), false);
        const stale = await getStale(kept);
        assert.equal(stale?.value, 'kept for errors', 'getStale returns the expired entry within its window');
        assert.equal(stale?.staleUntil, entry.staleUntil, 'staleUntil round trips');
        assert.equal(stale?.expiresAt, entry.expiresAt);
        assert.equal(await getStale(plain), undefined, 'an entry without a window is gone once expired');
        assert.equal((await b.stats()).entries, 0, 'entries kept only for stale-if-error are not counted as entries');
        await sleep(windowMs);
        assert.equal(await getStale(kept), undefined, 'past staleUntil nothing is returned');
        assert.equal(await getStale(key()), undefined);
      }),
    });
  }

  if (options.createUnreachableBackend) {
    const createUnreachable = options.createUnreachableBackend;
    const bound = options.unreachableBoundMs ?? 2000;
    cases.push({
      name: `an unreachable backend fails within ${bound} ms`,
      run: async () => {
        const b = await createUnreachable();
        try {
          for (const call of [() => b.get('k'), () => b.set('k', createEntry('v')), () => b.has('k')] as Array<() => unknown>) {
            const started = Date.now();
            const outcome = await Promise.race([
              Promise.resolve()
                .then(call)
                .then(
                  () => 'settled',
                  () => 'settled',
                ),
              sleep(bound + 500).then(() => 'hung'),
            ]);
            assert.equal(outcome, 'settled', 'the call settles instead of hanging');
            assert.ok(Date.now() - started <= bound, `settled in ${Date.now() - started} ms, within ${bound} ms`);
          }
        } finally {
          await b.close();
        }
      },
    });
  }
  return cases;
}

/** Two instances on one namespace and their leases. */
async function leasePair(make: (namespace?: string) => Promise<CacheBackend>): Promise<[CacheLeases, CacheLeases, CacheBackend]> {
  const namespace = `ns-${randomUUID()}`;
  const a = await make(namespace);
  const b = await make(namespace);
  assert.ok(a.leases && b.leases, 'the backend has leases');
  return [a.leases, b.leases, a];
}

/** Settles with "settled" when promise does within boundMs, else "hung". */
function settlesWithin(promise: Promise<unknown>, boundMs: number): Promise<'settled' | 'hung'> {
  return Promise.race([promise.then(() => 'settled' as const), sleep(boundMs).then(() => 'hung' as const)]);
}

/** The cases of CacheLeases: one holder at a time, compare-and-delete, lapse, renewal, bounded waits. */
function leaseCases(
  make: (namespace?: string) => Promise<CacheBackend>,
  withBackends: (run: (make: (namespace?: string) => Promise<CacheBackend>) => Promise<void>) => () => Promise<void>,
  key: () => string,
): ConformanceCase[] {
  return [
    {
      name: 'leases: one holder at a time; release is compare-and-delete; then another instance can take it',
      run: withBackends(async () => {
        const [a, b] = await leasePair(make);
        const k = key();
        const token = await a.acquire(k, 10_000);
        assert.equal(typeof token, 'string', 'the first acquire gets a token');
        assert.equal(await b.acquire(k, 10_000), undefined, 'a held lease is not handed out again');
        assert.equal(await a.acquire(k, 10_000), undefined, 'not even to the same instance');
        assert.equal(await b.release(k, 'not-the-token'), false, 'a wrong token releases nothing');
        assert.equal(await b.acquire(k, 10_000), undefined, 'the lease is still held');
        assert.equal((await b.acquire(key(), 10_000)) === undefined, false, 'another key has its own lease');
        assert.equal(await a.release(k, token as string), true);
        assert.equal(await a.release(k, token as string), false, 'a second release finds nothing');
        const next = await b.acquire(k, 10_000);
        assert.equal(typeof next, 'string', 'a released lease can be taken');
        assert.notEqual(next, token, 'every acquire gets a fresh token');
      }),
    },
    {
      name: 'leases: a lease nobody renews lapses after its ttlMs, in real time',
      run: withBackends(async () => {
        const [a, b] = await leasePair(make);
        const k = key();
        const token = await a.acquire(k, 200);
        assert.equal(typeof token, 'string');
        await sleep(600);
        const taken = await b.acquire(k, 10_000);
        assert.equal(typeof taken, 'string', 'the lapsed lease is taken over');
        assert.equal(await a.release(k, token as string), false, 'the old holder can no longer release it');
        assert.equal(await a.renew(k, token as string, 10_000), false, 'nor renew it');
      }),
    },
    {
      name: 'leases: renew, release and a wait work as the first call of a fresh instance (no earlier call connected it)',
      run: withBackends(async () => {
        const namespace = `ns-${randomUUID()}`;
        const holder = await make(namespace);
        const k = key();
        const token = (await holder.leases?.acquire(k, 10_000)) as string;
        assert.equal(typeof token, 'string');
        // Each fresh instance's first call is the one under test: a backend that sends it before its
        // connection is up fails here (the contract lets any instance renew or release with a token).
        const renewer = (await make(namespace)).leases;
        assert.equal(await renewer?.renew(k, token, 10_000), true, 'a fresh instance renews a lease it knows the token of');
        const waiter = (await make(namespace)).leases;
        const waiting = waiter?.waitForOutcome(k, 60_000);
        const releaser = (await make(namespace)).leases;
        assert.equal(await releaser?.release(k, token), true, 'a fresh instance releases it');
        assert.equal(await settlesWithin(waiting ?? Promise.resolve(), 5_000), 'settled', 'the release wakes a fresh waiter');
      }),
    },
    {
      name: 'leases: renew extends a held lease; a wrong token renews nothing',
      run: withBackends(async () => {
        const [a, b] = await leasePair(make);
        const k = key();
        const token = (await a.acquire(k, 400)) as string;
        assert.equal(await a.renew(k, token, 10_000), true);
        assert.equal(await b.renew(k, 'not-the-token', 10_000), false);
        await sleep(800);
        assert.equal(await b.acquire(k, 10_000), undefined, 'the renewed lease still holds past its first ttlMs');
        assert.equal(await a.release(k, token), true);
      }),
    },
    {
      name: 'leases: waitForOutcome wakes when the lease is released, and is bounded by timeoutMs while it is held',
      run: withBackends(async () => {
        const [a, b] = await leasePair(make);
        const k = key();
        const token = (await a.acquire(k, 30_000)) as string;
        assert.equal(await settlesWithin(b.waitForOutcome(k, 300), 5_000), 'settled', 'a wait on a held lease ends after timeoutMs');
        const waiting = b.waitForOutcome(k, 60_000);
        await sleep(50);
        await a.release(k, token);
        assert.equal(await settlesWithin(waiting, 5_000), 'settled', 'the release wakes the waiter long before timeoutMs');
        assert.equal(await settlesWithin(b.waitForOutcome(k, 60_000), 5_000), 'settled', 'a wait on a free key ends at once');
      }),
    },
    {
      name: 'leases: lease records are not entries (get, stats and clear do not see them)',
      run: withBackends(async () => {
        const [a, , backendA] = await leasePair(make);
        const k = key();
        const token = (await a.acquire(k, 10_000)) as string;
        assert.equal(await backendA.get(k), undefined);
        assert.equal(await backendA.has(k), false);
        assert.equal((await backendA.stats()).entries, 0);
        assert.equal(await backendA.clear(), 0);
        await a.release(k, token);
      }),
    },
  ];
}
