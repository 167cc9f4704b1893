import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { cacheInfo } from '../src/index.js';
import { collect, MODEL, setup, sleep } from './helpers.js';

describe('single flight', () => {
  it('1,000 identical concurrent non-streaming misses reach the model once', async () => {
    const { server, client } = await setup({}, { latencyMs: 50 });
    const request = { model: MODEL, prompt: 'thundering herd' };
    const answers = await Promise.all(Array.from({ length: 1000 }, () => client.generate({ ...request })));
    expect(server.modelCalls()).toBe(1);
    const expected = fakeAnswer(request).text;
    for (const answer of answers) expect(answer.response).toBe(expected);
    expect(new Set(answers).size).toBe(1000); // fresh objects
    const statuses = answers.map((a) => cacheInfo(a)?.status);
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'coalesced')).toHaveLength(999);
    const stats = await client.getStats();
    expect(stats.cache.coalesced).toBe(999);
    expect(stats.client.upstreamCalls).toBe(1);
  });

  it('50 identical concurrent streaming misses reach the model once and all get the whole stream', async () => {
    const { server, client } = await setup({}, { latencyMs: 20, tokensPerSecond: 500 });
    const request = { model: MODEL, prompt: 'streaming herd' };
    const streams = await Promise.all(Array.from({ length: 50 }, () => client.generate({ ...request, stream: true })));
    const results = await Promise.all(streams.map((s) => collect(s)));
    expect(server.modelCalls()).toBe(1);
    const expected = fakeAnswer(request).text;
    for (const chunks of results) {
      expect(chunks.map((c) => c.response).join('')).toBe(expected);
      expect(chunks[chunks.length - 1]?.done).toBe(true);
    }
    const statuses = streams.map((s) => cacheInfo(s)?.status);
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'coalesced')).toHaveLength(49);
  });

  it('streaming and non-streaming callers share one flight', async () => {
    const { server, client } = await setup({}, { latencyMs: 20 });
    const request = { model: MODEL, prompt: 'mixed herd' };
    const [stream, whole, stream2] = await Promise.all([
      client.generate({ ...request, stream: true }),
      client.generate(request),
      client.generate({ ...request, stream: true }),
    ]);
    const [chunks, chunks2] = await Promise.all([collect(stream), collect(stream2)]);
    expect(server.modelCalls()).toBe(1);
    expect(chunks.map((c) => c.response).join('')).toBe(whole.response);
    expect(chunks2.map((c) => c.response).join('')).toBe(whole.response);
  });

  it('when the leading stream is abandoned, the upstream call goes on for the callers still waiting', async () => {
    const { server, client } = await setup({}, { latencyMs: 20, tokensPerSecond: 50 });
    const request = { model: MODEL, prompt: 'leader leaves' };
    const leader = await client.generate({ ...request, stream: true });
    const joiner = client.generate(request);
    for await (const _ of leader) break; // the leader walks away after one chunk
    const answer = await joiner;
    expect(answer.response).toBe(fakeAnswer(request).text);
    expect(server.modelCalls()).toBe(1);
    await client.flush();
    expect(cacheInfo(await client.generate(request))?.status).toBe('hit');
  });

  it('a caller that joins a streaming miss follows it live: its first chunk arrives before the stream ends', async () => {
    const { server, client } = await setup({}, { tokensPerSecond: 40 });
    const request = { model: MODEL, prompt: 'follow me live', options: { num_predict: 20 } };
    const leader = await client.generate({ ...request, stream: true });
    const leaderChunks: Array<{ at: number; done: boolean }> = [];
    const leading = (async () => {
      for await (const chunk of leader) leaderChunks.push({ at: Date.now(), done: chunk.done });
    })();
    while (leaderChunks.length < 3) await sleep(5);
    const joiner = await client.generate({ ...request, stream: true });
    expect(cacheInfo(joiner)?.status).toBe('coalesced');
    const joined: Array<{ at: number; text: string; done: boolean }> = [];
    for await (const chunk of joiner) joined.push({ at: Date.now(), text: chunk.response ?? '', done: chunk.done });
    await leading;
    const leaderEnd = leaderChunks[leaderChunks.length - 1]?.at ?? 0;
    // The chunks the leader had already received came at once; the rest arrived as they were made.
    expect(joined[0]?.at).toBeLessThan(leaderEnd);
    expect(joined.map((c) => c.text).join('')).toBe(fakeAnswer(request).text);
    expect(joined.at(-1)?.done).toBe(true);
    expect(server.modelCalls()).toBe(1);
  });

  it('a joiner that spelled the model differently gets its own spelling echoed in live chunks', async () => {
    const { server, client } = await setup({}, { tokensPerSecond: 100 });
    const leader = await client.generate({ model: MODEL, prompt: 'spelling', stream: true });
    const joiner = await client.generate({ model: MODEL.toUpperCase(), prompt: 'spelling', stream: true });
    const [a, b] = await Promise.all([collect(leader), collect(joiner)]);
    expect(server.modelCalls()).toBe(1);
    expect(new Set(a.map((c) => c.model))).toEqual(new Set([MODEL]));
    expect(new Set(b.map((c) => c.model))).toEqual(new Set([MODEL.toUpperCase()]));
  });

  it('forceRefresh does not join an in-flight call', async () => {
    const { server, client } = await setup({}, { latencyMs: 100 });
    const request = { model: MODEL, prompt: 'refresh herd' };
    const first = client.generate(request);
    while (server.modelCalls() === 0) await sleep(2);
    const refreshed = await client.generate({ ...request, forceRefresh: true });
    await first;
    expect(server.modelCalls()).toBe(2);
    expect(cacheInfo(refreshed)?.status).toBe('refresh');
  });
});
