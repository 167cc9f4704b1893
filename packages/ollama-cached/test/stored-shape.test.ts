import { ReferenceBackend, ResponseCache } from '@tinyllm/cache-core';
import { describe, expect, it } from 'vitest';
import { CachedOllamaClient, cacheInfo, OllamaClient } from '../src/index.js';
import { MODEL, onCleanup, setup } from './helpers.js';

// Issue 8 item 1: a record that decodes but has the wrong shape for its key is a miss plus an
// error, then replaced by the fresh answer; never served as a hit.
describe('a stored record must have the shape of its endpoint', () => {
  const request = { model: MODEL, prompt: 'shape check' };
  const chatShaped = {
    v: 2,
    endpoint: 'chat',
    response: { model: MODEL, created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: 'hi' }, done: true },
  };
  const cases: Array<[string, unknown]> = [
    ['a response of {"foo":1}', { v: 2, endpoint: 'generate', response: { foo: 1 } }],
    ['a number', 42],
    ['a chat record under a generate key', chatShaped],
    ['a generate record whose response is not a string', { v: 2, endpoint: 'generate', response: { response: 7, done: true } }],
    ['a generate record without done: true', { v: 2, endpoint: 'generate', response: { response: 'partial', done: false } }],
    ['a damaged stream track', { v: 2, endpoint: 'generate', response: { response: 'x', done: true }, stream: { shapes: 'no' } }],
  ];
  for (const [name, stored] of cases) {
    it(`${name}: a miss plus an error, then overwritten`, async () => {
      const { server } = await setup();
      const store = new Map<string, string>();
      const writer = new ResponseCache({ backend: new ReferenceBackend({ store }) });
      const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: new ReferenceBackend({ store }) });
      onCleanup(() => client.close());
      await writer.set(writer.generateCacheKey(request, { endpoint: 'generate' }), stored);
      const answer = await client.generate(request);
      expect(cacheInfo(answer)?.status).toBe('miss');
      expect(answer.response?.length).toBeGreaterThan(0);
      expect((await client.getStats()).cache).toMatchObject({ hits: 0, errors: 1 });
      await client.flush();
      const again = await client.generate(request);
      expect(cacheInfo(again)?.status).toBe('hit');
      expect(again.response).toBe(answer.response);
      expect(server.modelCalls()).toBe(1);
    });
  }

  it('a chat record stays a hit for chat', async () => {
    const { server, client } = await setup();
    const ask = { model: MODEL, messages: [{ role: 'user', content: 'shape ok' }] };
    await client.chat(ask);
    await client.flush();
    expect(cacheInfo(await client.chat(ask))?.status).toBe('hit');
    expect(server.modelCalls()).toBe(1);
  });
});
