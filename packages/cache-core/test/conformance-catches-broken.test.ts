import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../src/codec.js';
import { conformanceCases } from '../src/conformance/cases.js';
import type { ConformanceOptions } from '../src/conformance/options.js';
import type { CacheBackend, ScopeOptions } from '../src/contract.js';
import type { CacheEntry } from '../src/entry.js';
import { ReferenceBackend } from '../src/reference-backend.js';

/** Runs every case and returns the names of the failing ones. */
async function failingCases(
  createBackend: (namespace: string) => CacheBackend,
  options: Partial<ConformanceOptions> = { shared: true, staleIfError: true },
): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of conformanceCases({ createBackend: ({ namespace }) => createBackend(namespace), ttlMs: 100, ...options })) {
    try {
      await testCase.run();
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}

const caseNames = (options: Partial<ConformanceOptions>): string[] =>
  conformanceCases({ createBackend: () => new ReferenceBackend(), ...options }).map((testCase) => testCase.name);

const store = new Map<string, string>();
const reference = (namespace: string) => new ReferenceBackend({ store, namespace });

describe('the conformance suite catches broken backends', () => {
  it('passes the reference backend (the control)', async () => {
    expect(await failingCases(reference)).toEqual([]);
  });

  it('fails a backend that ignores TTLs', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      const set = inner.set.bind(inner);
      inner.set = (key: string, entry: CacheEntry) => set(key, { ...entry, expiresAt: null });
      return inner;
    });
    expect(failed).toContain('an entry expires after its TTL, in real time');
    expect(failed).toContain('an already-elapsed TTL stores nothing and removes an older value');
  });

  it('fails a backend whose clear wipes every namespace', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      inner.clear = async () => {
        const count = store.size;
        store.clear();
        return count;
      };
      return inner;
    });
    expect(failed).toContain('clear removes only its own namespace and returns how many went');
  });

  it('fails a backend that keeps working after close', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      inner.close = async () => {};
      return inner;
    });
    expect(failed).toEqual(['close is idempotent and later calls fail with BackendClosedError']);
  });

  it('fails a backend that stores what JSON cannot carry (as null, or as is)', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      // Writes straight to the store, as a hand-written backend without BackendBase might: a function becomes null.
      inner.set = (key: string, entry: CacheEntry) => {
        store.set(`${namespace}\u0000${key}`, encodeEntry(entry, JSON.stringify(entry.value) ?? 'null'));
      };
      return inner;
    });
    expect(failed).toContain(
      'a value JSON cannot carry (undefined, a function, a symbol, a BigInt) is refused: set resolves false, nothing is stored, the old value goes',
    );
  });

  it('fails a backend whose clear and stats ignore the namespace they are given', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      const clear = inner.clear.bind(inner);
      const stats = inner.stats.bind(inner);
      inner.clear = (_options?: ScopeOptions) => clear();
      inner.stats = (_options?: ScopeOptions) => stats();
      return inner;
    });
    expect(failed).toContain('clear({ namespace }) and stats({ namespace }) touch only the keys that start with "namespace:"');
  });

  it('fails a backend that matches a namespace as a pattern instead of a literal prefix', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      const stats = inner.stats.bind(inner);
      inner.clear = async (options?: ScopeOptions) => {
        if (options?.namespace === undefined) return 0;
        // A glob written without escaping: "q*[x]:" also matches "qzx:1".
        const pattern = new RegExp(`^${options.namespace.replace(/\*/g, '.*')}:`);
        let removed = 0;
        for (const key of [...store.keys()]) {
          const own = key.startsWith(`${namespace}\u0000`) ? key.slice(namespace.length + 1) : undefined;
          if (own !== undefined && pattern.test(own)) {
            store.delete(key);
            removed++;
          }
        }
        return removed;
      };
      inner.stats = (options?: ScopeOptions) => stats(options);
      return inner;
    });
    expect(failed).toContain('clear({ namespace }) and stats({ namespace }) touch only the keys that start with "namespace:"');
  });

  it('fails a shared backend run without shared: true, instead of quietly not testing sharing', async () => {
    const failed = await failingCases(reference, { staleIfError: true });
    expect(failed).toEqual(['declares capabilities.shared false (or leaves it out), as the suite was told']);
  });

  it('fails a stale-keeping backend run without staleIfError: true, and one that serves stale entries from get', async () => {
    expect(await failingCases(reference, { shared: true })).toEqual(['declares capabilities.staleIfError false (or leaves it out), as the suite was told']);
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      // Serves whatever getStale would, fresh or not: a backend that forgot expiry on the read path.
      inner.get = (key: string) => (inner.getStale as (key: string) => CacheEntry | undefined)(key);
      return inner;
    });
    expect(failed).toContain('stale-if-error: past its TTL an entry is never served by get or has, getStale returns it until staleUntil, then nothing');
  });

  it('fails a backend that drops entries at expiresAt although it declares staleIfError', async () => {
    const failed = await failingCases((namespace) => {
      const inner = reference(namespace);
      const set = inner.set.bind(inner);
      inner.set = (key: string, entry: CacheEntry) => set(key, { ...entry, staleUntil: null });
      return inner;
    });
    expect(failed).toEqual(['stale-if-error: past its TTL an entry is never served by get or has, getStale returns it until staleUntil, then nothing']);
  });

  it('fails a backend that claims to be shared but is not', async () => {
    const failed = await failingCases((namespace) => new ReferenceBackend({ namespace }));
    expect(failed).toContain('shared: another instance on the same namespace sees writes, deletes and clears');
  });
});

describe('the conformance suite registers only the cases that apply', () => {
  it('registers the shared case only for a shared backend, so nothing reports "passed" without running', () => {
    const shared = 'shared: another instance on the same namespace sees writes, deletes and clears';
    expect(caseNames({ shared: true })).toContain(shared);
    expect(caseNames({})).not.toContain(shared);
    expect(caseNames({ shared: false })).not.toContain(shared);
  });

  it('registers the eviction and unreachable cases only with their factories', () => {
    const names = caseNames({});
    expect(names.some((name) => name.includes('evicts'))).toBe(false);
    expect(names.some((name) => name.includes('unreachable'))).toBe(false);
    const all = caseNames({ createBoundedBackend: () => new ReferenceBackend(), createUnreachableBackend: () => new ReferenceBackend() });
    expect(all.some((name) => name.includes('evicts'))).toBe(true);
    expect(all.some((name) => name.includes('unreachable'))).toBe(true);
  });
});

describe('the conformance suite catches broken leases', () => {
  const leaseStore = new Map<string, string>();
  const withLeases = (namespace: string) => new ReferenceBackend({ store: leaseStore, namespace, leases: true });

  it('passes the reference leases (the control)', async () => {
    expect(await failingCases(withLeases, { shared: true, staleIfError: true, leases: true })).toEqual([]);
  });

  it('fails leases whose release ignores the token (no compare-and-delete)', async () => {
    const failed = await failingCases(
      (namespace) => {
        const inner = withLeases(namespace);
        const leases = inner.leases as NonNullable<typeof inner.leases>;
        const release = leases.release.bind(leases);
        leases.release = (key: string) => {
          const held = leaseStore.get(`\u0001lease\u0000${namespace}\u0000${key}`);
          return held === undefined ? false : release(key, held.split(' ')[0] as string);
        };
        return inner;
      },
      { shared: true, staleIfError: true, leases: true },
    );
    expect(failed).toContain('leases: one holder at a time; release is compare-and-delete; then another instance can take it');
  });

  it('fails a backend with leases that the suite was not told about (and one told about leases it lacks)', async () => {
    expect(await failingCases(withLeases, { shared: true, staleIfError: true })).toEqual(['declares leases not at all, as the suite was told']);
    expect(await failingCases(reference, { shared: true, staleIfError: true, leases: true })).toContain('declares leases (CacheLeases), as the suite was told');
  });
});
