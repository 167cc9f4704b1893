import { ReferenceBackend } from '@tinyllm/cache-core';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { cacheInfo, createCachedClient } from '../src/index.js';
import { collect, MODEL, onCleanup, setup } from './helpers.js';

// Two clients, each with its own backend instance on one shared store that offers leases: two
// processes on one Redis or SQLite file, as far as the engine can tell.
describe('cross-process single flight through the cached client', () => {
  const pair = async (options: { crossProcessFlight?: boolean } = {}) => {
    const store = new Map<string, string>();
    const { server, client: first } = await setup(
      { backend: new ReferenceBackend({ store, leases: true }), ...options },
      { latencyMs: 300, tokensPerSecond: 200 },
    );
    const second = createCachedClient({ host: server.url, retryDelayMs: 1, backend: new ReferenceBackend({ store, leases: true }), ...options });
    onCleanup(() => second.close());
    return { server, first, second };
  };

  it('a streaming and a whole caller in two "processes" make one model call; the waiter replays the stored answer (remote hit)', async () => {
    const { server, first, second } = await pair();
    const request = { model: MODEL, prompt: 'one question, two processes' };
    const [stream, whole] = await Promise.all([first.generate({ ...request, stream: true }), second.generate(request)]);
    const chunks = await collect(stream);
    expect(server.modelCalls()).toBe(1);
    const expected = fakeAnswer(request).text;
    expect(chunks.map((c) => c.response).join('')).toBe(expected);
    expect(whole.response).toBe(expected);
    const infos = [cacheInfo(stream), cacheInfo(whole)];
    expect(infos.map((info) => info?.status).sort()).toEqual(['hit', 'miss']);
    expect(infos.find((info) => info?.status === 'hit')?.remote).toBe(true);
    const stats = await Promise.all([first.getStats(), second.getStats()]);
    expect(stats.reduce((sum, s) => sum + s.cache.coalescedRemote, 0)).toBe(1);
  });

  it('a streaming waiter gets the whole stream replayed once the other process stored it', async () => {
    const { server, first, second } = await pair();
    const request = { model: MODEL, prompt: 'streams on both sides' };
    const [a, b] = await Promise.all([first.generate({ ...request, stream: true }), second.generate({ ...request, stream: true })]);
    const [chunksA, chunksB] = await Promise.all([collect(a), collect(b)]);
    expect(server.modelCalls()).toBe(1);
    expect(chunksA.map((c) => c.response).join('')).toBe(chunksB.map((c) => c.response).join(''));
    expect(chunksB.at(-1)?.done).toBe(true);
  });

  it('crossProcessFlight: false: each "process" asks the model', async () => {
    const { server, first, second } = await pair({ crossProcessFlight: false });
    const request = { model: MODEL, prompt: 'no lease' };
    await Promise.all([first.generate(request), second.generate(request)]);
    expect(server.modelCalls()).toBe(2);
  });
});
