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

  it('when the leading stream is aborted, waiting callers still get an answer', async () => {
    const { server, client } = await setup({}, { latencyMs: 20, tokensPerSecond: 50 });
    const request = { model: MODEL, prompt: 'leader leaves' };
    const leader = await client.generate({ ...request, stream: true });
    const joiner = client.generate(request);
    for await (const _ of leader) break; // the leader walks away after one chunk
    const answer = await joiner;
    expect(answer.response).toBe(fakeAnswer(request).text);
    expect(server.modelCalls()).toBe(2);
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
