import { describe, expect, it } from 'vitest';
import type { EngineAnswer, EngineCall } from '../src/engine/index.js';
import { cacheInfo } from '../src/index.js';
import { collect, MODEL, setup } from './helpers.js';

const question = (stream: boolean): EngineCall => ({
  endpoint: 'generate',
  request: { model: MODEL, prompt: 'answered at once?' },
  model: MODEL,
  stream,
});

describe('engine.answer(): a hit from a memory store without a promise', () => {
  it('a miss is a promise; then whole and streaming hits are answers in the same tick, with the stored content', async () => {
    const { server, client } = await setup();
    const engine = client.engine;
    const miss = engine.answer(question(false));
    expect(miss).toBeInstanceOf(Promise);
    const missed = (await miss) as Extract<EngineAnswer, { kind: 'whole' }>;
    expect(missed.info.status).toBe('miss');
    await client.flush();

    const whole = engine.answer(question(false));
    expect(whole).not.toBeInstanceOf(Promise);
    expect(whole).toMatchObject({ kind: 'whole', info: { status: 'hit' } });
    expect((whole as Extract<EngineAnswer, { kind: 'whole' }>).response.response).toBe(missed.response.response);

    const streamed = engine.answer(question(true));
    expect(streamed).not.toBeInstanceOf(Promise);
    const replay = streamed as Extract<EngineAnswer, { kind: 'stream' }>;
    expect(replay.info.status).toBe('hit');
    const chunks = await collect(replay.chunks);
    expect(chunks.map((chunk) => chunk.response).join('')).toBe(missed.response.response);
    expect(chunks.at(-1)?.done).toBe(true);
    expect(server.counts['/api/generate']).toBe(1);
    expect(engine.counters).toMatchObject({ requests: 3, upstreamCalls: 1 });
    expect(client.responseCache?.getMetrics()).toMatchObject({ hits: 2, misses: 1 });
  });

  it("run() and the client's methods give the same hit, as a promise", async () => {
    const { client } = await setup();
    const first = await client.generate({ model: MODEL, prompt: 'answered at once?' });
    await client.flush();
    const ran = await client.engine.run(question(false));
    expect(ran).toMatchObject({ kind: 'whole', info: { status: 'hit' } });
    const again = client.generate({ model: MODEL, prompt: 'answered at once?' });
    expect(again).toBeInstanceOf(Promise);
    const hit = await again;
    expect(hit.response).toBe(first.response);
    expect(cacheInfo(hit)?.status).toBe('hit');
    // The caller's own copy: changing it changes nothing stored.
    hit.response = 'changed';
    expect((await client.generate({ model: MODEL, prompt: 'answered at once?' })).response).toBe(first.response);
  });

  it('a call that must not be answered from the cache (forceRefresh, only a load request) is never answered at once', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'answered at once?' });
    await client.flush();
    const refresh = client.engine.answer({ ...question(false), controls: { forceRefresh: true } });
    expect(refresh).toBeInstanceOf(Promise);
    expect((await refresh).info.status).toBe('refresh');
    const load = client.engine.answer({ endpoint: 'generate', request: { model: MODEL }, model: MODEL, stream: false });
    expect(load).toBeInstanceOf(Promise);
    expect((await load).info.status).toBe('bypass');
    expect(server.counts['/api/generate']).toBe(3);
  });
});
