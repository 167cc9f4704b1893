import { describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/conformance/cases.js';
import type { CacheBackend } from '../src/contract.js';
import type { CacheEntry } from '../src/entry.js';
import { ReferenceBackend } from '../src/reference-backend.js';

/** Runs every case and returns the names of the failing ones. */
async function failingCases(createBackend: (namespace: string) => CacheBackend): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of conformanceCases({ createBackend: ({ namespace }) => createBackend(namespace), ttlMs: 100 })) {
    try {
      await testCase.run();
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}

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
});
