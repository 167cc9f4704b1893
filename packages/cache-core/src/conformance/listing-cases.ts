import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheBackend, EntryInfo, ListOptions } from '../contract.js';
import { createEntry } from '../create-entry.js';
import type { ConformanceCase, ConformanceOptions } from './options.js';

type Make = (namespace?: string) => Promise<CacheBackend>;

async function collect(backend: CacheBackend, options?: ListOptions): Promise<EntryInfo[]> {
  assert.equal(typeof backend.list, 'function', 'a backend with capabilities.lists has list()');
  const out: EntryInfo[] = [];
  for await (const info of (backend.list as (o?: ListOptions) => AsyncIterable<EntryInfo>).call(backend, options)) out.push(info);
  return out;
}

const byKey = (infos: EntryInfo[]): Map<string, EntryInfo> => new Map(infos.map((info) => [info.key, info]));

/** The cases of the listing capability (list, peek, prune): registered when the suite is told `lists: true`. */
export function listingCases(options: ConformanceOptions, withBackends: (run: (make: Make) => Promise<void>) => () => Promise<void>): ConformanceCase[] {
  const ttlMs = options.ttlMs ?? 300;
  const cases: ConformanceCase[] = [
    {
      name: `declares capabilities.lists ${options.lists ? 'true' : 'false (or leaves it out)'}, as the suite was told`,
      run: withBackends(async (make) => {
        const b = await make();
        assert.equal(
          b.capabilities.lists === true,
          options.lists === true,
          options.lists
            ? 'the suite was told lists: true, the backend does not say so'
            : 'the backend says lists: pass { lists: true } to run the listing cases',
        );
      }),
    },
  ];
  if (!options.lists) return cases;
  cases.push(
    {
      name: 'lists: list() yields the metadata of every entry (key, namespace, endpoint, model, times, size), never the value',
      run: withBackends(async (make) => {
        const b = await make();
        const a = createEntry({ response: 'alpha' }, { ttl: 600, model: 'llama3:latest', endpoint: 'generate' });
        const c = createEntry('gamma', { model: 'qwen:0.5b' });
        await b.set('tenant-1:aaaa', a);
        await b.set('plainkey', c);
        const infos = byKey(await collect(b));
        assert.equal(infos.size, 2);
        const first = infos.get('tenant-1:aaaa');
        assert.ok(first, 'the entry is listed under its own key');
        assert.deepEqual(
          { ...first, accessCount: 0, lastAccess: 0 },
          {
            key: 'tenant-1:aaaa',
            namespace: 'tenant-1',
            endpoint: 'generate',
            model: 'llama3:latest',
            createdAt: a.createdAt,
            expiresAt: a.expiresAt,
            sizeBytes: a.sizeBytes,
            accessCount: 0,
            lastAccess: 0,
          },
        );
        assert.ok(!('value' in first), 'no value in a listing');
        assert.deepEqual(
          { namespace: infos.get('plainkey')?.namespace, endpoint: infos.get('plainkey')?.endpoint, expiresAt: infos.get('plainkey')?.expiresAt },
          {
            namespace: null,
            endpoint: null,
            expiresAt: null,
          },
        );
      }),
    },
    {
      name: 'lists: list({ namespace }) yields only that key namespace; another backend namespace is never listed',
      run: withBackends(async (make) => {
        const b = await make();
        const other = await make();
        await b.set('one:k1', createEntry(1));
        await b.set('one:k2', createEntry(2));
        await b.set('two:k1', createEntry(3));
        await other.set('one:k3', createEntry(4));
        assert.deepEqual((await collect(b, { namespace: 'one' })).map((i) => i.key).sort(), ['one:k1', 'one:k2']);
        assert.deepEqual(
          (await collect(other)).map((i) => i.key),
          ['one:k3'],
        );
      }),
    },
    {
      name: 'lists: a listing in small batches yields each entry once, even when the caller deletes as it goes',
      run: withBackends(async (make) => {
        const b = await make();
        const keys = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(2, '0')}-${randomUUID()}`);
        for (const k of keys) await b.set(k, createEntry(k));
        const seen: string[] = [];
        for await (const info of (b.list as (o?: ListOptions) => AsyncIterable<EntryInfo>).call(b, { batchSize: 4 })) {
          seen.push(info.key);
          await b.delete(info.key);
        }
        assert.deepEqual(seen.sort(), [...keys].sort());
        assert.equal((await collect(b)).length, 0);
      }),
    },
    {
      name: 'lists: peek() reads an entry without counting an access; a missing key is undefined',
      run: withBackends(async (make) => {
        const b = await make();
        assert.equal(typeof b.peek, 'function');
        const peek = (k: string) => (b.peek as (k: string) => unknown).call(b, k) as Promise<{ value: unknown; accessCount: number } | undefined>;
        await b.set('p', createEntry({ answer: 42 }, { model: 'm' }));
        const before = (await collect(b))[0]?.accessCount;
        assert.deepEqual((await peek('p'))?.value, { answer: 42 });
        await peek('p');
        assert.equal((await collect(b))[0]?.accessCount, before, 'peeks are not accesses');
        assert.equal(await peek('absent'), undefined);
      }),
    },
    {
      name: 'lists: expired entries are not listed, and prune() removes them and keeps the rest',
      run: withBackends(async (make) => {
        const b = await make();
        const short = createEntry('short');
        short.expiresAt = Date.now() + ttlMs;
        await b.set('short', short);
        await b.set('long', createEntry('long', { ttl: 600 }));
        await sleep(ttlMs + 250);
        assert.deepEqual(
          (await collect(b)).map((i) => i.key),
          ['long'],
        );
        const pruned = await (b.prune as () => unknown).call(b);
        assert.ok(typeof pruned === 'number' && pruned >= 0 && pruned <= 1, `prune() returns a count (${String(pruned)})`);
        assert.equal((await b.stats()).entries, 1);
        assert.equal((await b.get('long'))?.value, 'long');
      }),
    },
  );
  if (options.staleIfError) {
    cases.push({
      name: 'lists with stale-if-error: an entry past its expiry but within its stale window is neither listed nor peeked, and prune() keeps it',
      run: withBackends(async (make) => {
        const b = await make();
        const kept = createEntry('kept for errors');
        kept.expiresAt = Date.now() + ttlMs;
        kept.staleUntil = kept.expiresAt + 60_000;
        await b.set('kept', kept);
        await sleep(ttlMs + 250);
        assert.deepEqual(await collect(b), [], 'an entry kept only for stale-if-error is not listed');
        assert.equal(await (b.peek as (key: string) => unknown).call(b, 'kept'), undefined, 'nor peeked');
        await (b.prune as () => unknown).call(b);
        const getStale = b.getStale as (key: string) => Promise<{ value: unknown } | undefined> | { value: unknown } | undefined;
        assert.equal((await getStale.call(b, 'kept'))?.value, 'kept for errors', 'prune() keeps it for stale-if-error');
      }),
    });
  }
  return cases;
}
