import { describe, expect, it } from 'vitest';
import { BackendBase, type BackendDefinition, defineBackend } from '../src/backend-base.js';
import { decodeEntry, encodeEntry } from '../src/codec.js';
import type { BackendStats } from '../src/contract.js';
import { createEntry } from '../src/create-entry.js';
import type { CacheEntry } from '../src/entry.js';
import { BackendClosedError, BackendError, CacheDecodeError, InvalidOptionError } from '../src/errors.js';

/** A Map-backed definition that records what BackendBase hands its hooks. */
function mapDefinition(overrides: Partial<BackendDefinition> = {}) {
  const store = new Map<string, string>();
  const calls: string[] = [];
  const definition: BackendDefinition = {
    name: 'map',
    capabilities: {},
    get: (key) => {
      calls.push(`get ${key}`);
      const raw = store.get(key);
      return raw === undefined ? undefined : decodeEntry(raw);
    },
    set: (key, entry, valueJson) => {
      calls.push(`set ${key} ${valueJson}`);
      store.set(key, encodeEntry(entry, valueJson));
    },
    delete: (key) => {
      calls.push(`delete ${key}`);
      return store.delete(key);
    },
    clear: (keyPrefix) => {
      calls.push(`clear ${keyPrefix}`);
      return 0;
    },
    stats: (keyPrefix) => {
      calls.push(`stats ${keyPrefix}`);
      return { entries: store.size };
    },
    ...overrides,
  };
  return { definition, store, calls };
}

describe('defineBackend / BackendBase', () => {
  it('supplies has() from get(), honouring expiry', () => {
    const { definition } = mapDefinition();
    const backend = defineBackend(definition);
    expect(backend.has('k')).toBe(false);
    backend.set('k', createEntry('v', { ttl: 60 }));
    expect(backend.has('k')).toBe(true);
    backend.set('old', { ...createEntry('v'), expiresAt: Date.now() + 5 });
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(backend.has('old')).toBe(false);
        resolve();
      }, 20),
    );
  });

  it('stays synchronous when the hooks are, and hands write() the value’s JSON', () => {
    const { definition, calls } = mapDefinition();
    const backend = defineBackend(definition);
    expect(backend.set('k', createEntry({ a: [1, 'x'] }))).toBeUndefined();
    expect(calls).toEqual(['set k {"a":[1,"x"]}']);
    expect(backend.get('k')).toMatchObject({ value: { a: [1, 'x'] } });
  });

  it('an elapsed entry is never written: the old value is removed instead', () => {
    const { definition, calls, store } = mapDefinition();
    const backend = defineBackend(definition);
    backend.set('k', createEntry('v'));
    backend.set('k', { ...createEntry('late'), expiresAt: Date.now() - 1 });
    expect(store.has('k')).toBe(false);
    expect(calls).toEqual(['set k "v"', 'delete k']);
  });

  it('turns a namespace into the key prefix its clear and stats hooks get, and checks it', () => {
    const { definition, calls } = mapDefinition();
    const backend = defineBackend(definition);
    backend.clear();
    backend.clear({ namespace: 'tenant' });
    backend.stats({ namespace: 'tenant' });
    expect(calls).toEqual(['clear undefined', 'clear tenant:', 'stats tenant:']);
    expect(() => backend.clear({ namespace: '' })).toThrow(InvalidOptionError);
    expect(() => backend.stats({ namespace: 7 as never })).toThrow(/Invalid option options.namespace/);
  });

  it('after close (idempotent, its hook called once) every call throws BackendClosedError naming the backend and the operation', async () => {
    let closes = 0;
    const { definition } = mapDefinition({
      close: async () => {
        closes++;
      },
    });
    const backend = defineBackend(definition);
    await backend.close();
    await backend.close();
    expect(closes).toBe(1);
    for (const [operation, call] of [
      ['get', () => backend.get('k')],
      ['set', () => backend.set('k', createEntry('v'))],
      ['delete', () => backend.delete('k')],
      ['has', () => backend.has('k')],
      ['clear', () => backend.clear()],
      ['stats', () => backend.stats()],
    ] as const) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(BackendClosedError.isInstance(caught)).toBe(true);
      expect(caught).toMatchObject({ backend: 'map', operation });
      expect((caught as Error).message).toBe(`map backend: ${operation}() called after close()`);
    }
  });

  it('a driver error, thrown or rejected, becomes a BackendError naming the backend and the operation, with the cause', async () => {
    const cause = new Error('disk on fire');
    const backend = defineBackend(
      mapDefinition({
        get: () => {
          throw cause;
        },
        delete: () => Promise.reject(cause),
      }).definition,
    );
    let thrown: unknown;
    try {
      backend.get('k');
    } catch (error) {
      thrown = error;
    }
    const rejected = await Promise.resolve(backend.delete('k')).catch((error: unknown) => error);
    for (const [error, operation] of [
      [thrown, 'get'],
      [rejected, 'delete'],
    ] as const) {
      expect(BackendError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ backend: 'map', operation, cause });
      expect((error as Error).message).toBe(`map backend: ${operation} failed: disk on fire`);
    }
  });

  it('a CacheDecodeError gets the backend and the operation', () => {
    const { definition, store } = mapDefinition();
    const backend = defineBackend(definition);
    store.set('k', 'garbage');
    let caught: unknown;
    try {
      backend.get('k');
    } catch (error) {
      caught = error;
    }
    expect(CacheDecodeError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ backend: 'map', operation: 'get', detail: 'not a TinyLLM cache entry' });
    expect((caught as Error).message).toBe('map backend: get: Cannot decode cache entry: not a TinyLLM cache entry');
  });

  it('an async backend keeps its promises, and its own has() is used when given', async () => {
    const { definition } = mapDefinition();
    let hasCalls = 0;
    const backend = defineBackend({
      ...definition,
      get: async (key, now) => definition.get(key, now),
      set: async (key, entry, json) => definition.set(key, entry, json),
      has: async () => {
        hasCalls++;
        return true;
      },
    });
    await backend.set('k', createEntry('v'));
    expect(backend.get('k')).toBeInstanceOf(Promise);
    expect((await backend.get('k'))?.value).toBe('v');
    expect(await backend.has('anything')).toBe(true);
    expect(hasCalls).toBe(1);
  });

  it("an 'async' backend reports every failure as a rejection, the closed state and a bad namespace included", async () => {
    class AsyncMap extends BackendBase<'async'> {
      readonly name = 'async-map';
      readonly capabilities = {};
      readonly #store = new Map<string, CacheEntry>();
      constructor() {
        super('async');
      }
      protected async read(key: string): Promise<CacheEntry | undefined> {
        return this.#store.get(key);
      }
      protected async write(key: string, entry: CacheEntry): Promise<undefined> {
        this.#store.set(key, entry);
        return undefined;
      }
      protected async remove(key: string): Promise<boolean> {
        return this.#store.delete(key);
      }
      protected async removeAll(): Promise<number> {
        const count = this.#store.size;
        this.#store.clear();
        return count;
      }
      protected async measure(): Promise<BackendStats> {
        return { entries: this.#store.size };
      }
    }
    const backend = new AsyncMap();
    const badScope = backend.clear({ namespace: '' });
    expect(badScope).toBeInstanceOf(Promise);
    await expect(badScope).rejects.toSatisfy(InvalidOptionError.isInstance);
    await backend.set('k', createEntry('v'));
    expect((await backend.get('k'))?.value).toBe('v');
    await backend.close();
    const afterClose = backend.get('k');
    expect(afterClose).toBeInstanceOf(Promise);
    await expect(afterClose).rejects.toSatisfy(BackendClosedError.isInstance);
  });
});
