import type { CacheBackend, CacheEntry } from '@tinyllm/cache-core';
import { ResponseCache } from '@tinyllm/cache-core';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { CachedOllamaClient, cacheInfo, createCachedClient, OllamaClient, type StoredResponse } from '../src/index.js';
import { collect, fakeServer, MODEL, onCleanup } from './helpers.js';

function brokenBackend(mode: 'throw' | 'hang'): CacheBackend & { closed: boolean } {
  const fail = (): never => {
    throw new Error('cache is down');
  };
  const call = <T>(): Promise<T> => (mode === 'throw' ? Promise.reject(new Error('cache is down')) : new Promise<T>(() => {}));
  return {
    name: `broken-${mode}`,
    capabilities: { network: true },
    closed: false,
    get: (): Promise<CacheEntry | undefined> => (mode === 'throw' ? fail() : call()),
    set: (): Promise<void> => call(),
    delete: (): Promise<boolean> => call(),
    has: (): Promise<boolean> => call(),
    clear: (): Promise<number> => call(),
    stats: () => call(),
    close() {
      this.closed = true;
    },
  };
}

describe('fail open', () => {
  for (const mode of ['throw', 'hang'] as const) {
    it(`a cache whose backend ${mode}s still returns the model's answer`, async () => {
      const server = await fakeServer();
      const backend = brokenBackend(mode);
      const client = createCachedClient({ host: server.url, backend, cacheTimeoutMs: 50 });
      onCleanup(() => client.close());
      const request = { model: MODEL, prompt: `fail open ${mode}` };
      const answer = await client.generate(request);
      expect(answer.response).toBe(fakeAnswer(request).text);
      expect(cacheInfo(answer)?.status).toBe('miss');
      await client.flush(); // the background write gives up after cacheTimeoutMs
      const chunks = await collect(await client.generate({ ...request, stream: true }));
      expect(chunks.map((c) => c.response).join('')).toBe(answer.response);
      expect(server.modelCalls()).toBe(2);
      const stats = await client.getStats();
      expect(stats.cache.errors).toBeGreaterThanOrEqual(4); // 2 reads + 2 writes
      expect(stats.cache.entries).toBeUndefined();
      await client.close();
      expect(backend.closed).toBe(false); // not ours to close
    });
  }

  it('close() closes a cache it created, not one passed in, and is idempotent', async () => {
    const server = await fakeServer();
    const backend = brokenBackend('throw');
    const passed = new ResponseCache<StoredResponse>({ backend });
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: passed });
    await client.close();
    await client.close();
    expect(backend.closed).toBe(false);

    const own = createCachedClient({ host: server.url });
    const cache = own.responseCache;
    await own.generate({ model: MODEL, prompt: 'close me' });
    await Promise.all([own.close(), own.close()]);
    await expect(cache?.get('anything')).rejects.toThrow(/after close/);
  });
});
