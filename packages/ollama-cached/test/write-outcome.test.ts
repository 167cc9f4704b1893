import { type CacheEntry, ReferenceBackend } from '@tinyllm/cache-core';
import { describe, expect, it } from 'vitest';
import { CachedOllamaClient, cacheInfo, OllamaClient } from '../src/index.js';
import { collect, MODEL, onCleanup, setup } from './helpers.js';

// Issue 8 item 12: the cache fails open, so a caller can only learn that an answer's write failed
// from the call itself: cacheInfo(answer).stored.
describe('each call says whether its answer was stored', () => {
  it('stored resolves false when the store refuses the write, true when it lands', async () => {
    const { server } = await setup();
    const backend = new ReferenceBackend();
    let failWrites = true;
    const set = backend.set.bind(backend);
    backend.set = (key: string, entry: CacheEntry) => (failWrites ? Promise.reject(new Error('OOM command not allowed')) : set(key, entry));
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: backend });
    onCleanup(() => client.close());
    const failed = await client.generate({ model: MODEL, prompt: 'write fails' });
    expect(cacheInfo(failed)?.status).toBe('miss');
    expect(await cacheInfo(failed)?.stored).toBe(false);
    failWrites = false;
    const landed = await client.generate({ model: MODEL, prompt: 'write lands' });
    expect(await cacheInfo(landed)?.stored).toBe(true);
  });

  it('a streamed answer, noStore and a coalesced caller say it too', async () => {
    const { client } = await setup({}, { latencyMs: 20 });
    const stream = await client.generate({ model: MODEL, prompt: 'streamed outcome', stream: true });
    await collect(stream);
    expect(await cacheInfo(stream)?.stored).toBe(true);
    const skipped = await client.generate({ model: MODEL, prompt: 'not kept', noStore: true });
    expect(await cacheInfo(skipped)?.stored).toBe(false);
    const [a, b] = await Promise.all([client.generate({ model: MODEL, prompt: 'pair' }), client.generate({ model: MODEL, prompt: 'pair' })]);
    expect([cacheInfo(a)?.status, cacheInfo(b)?.status].sort()).toEqual(['coalesced', 'miss']);
    expect(await cacheInfo(a)?.stored).toBe(true);
    expect(await cacheInfo(b)?.stored).toBe(true);
  });

  it('close() overtaking a write: stored is false, and the call still got its answer', async () => {
    const { server } = await setup();
    const backend = new ReferenceBackend();
    backend.set = () => new Promise<void>(() => {}); // a write that never lands
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: backend, cacheTimeoutMs: 50 });
    const answer = await client.generate({ model: MODEL, prompt: 'overtaken' });
    expect(answer.response?.length).toBeGreaterThan(0);
    await client.close();
    expect(await cacheInfo(answer)?.stored).toBe(false);
  });
});
