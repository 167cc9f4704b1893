import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeAnswer, startFakeOllama } from '../src/index.js';
import { post, raw } from './helpers.js';

// Issue 8 item 23 and issue 13: the /__fake/ control surface, and digests that change.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
beforeEach(() => {
  server.clearFaults();
  server.resetCounts();
});
afterAll(() => server.close());

const admin = (method: string, path: string, body?: unknown) =>
  raw(server.url, `/__fake${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const gen = { model: 'qwen2.5:0.5b', prompt: 'hi', stream: false };

describe('admin routes', () => {
  it('POST /__fake/faults queues faults (one or a list, with times and route), DELETE clears them', async () => {
    const queued = await admin('POST', '/faults', [
      { kind: 'status', status: 503, times: 2 },
      { kind: 'midstream', afterChunks: 1, route: '/api/chat' },
    ]);
    expect(queued.status).toBe(200);
    expect(JSON.parse(queued.body)).toEqual({ queued: 2 });
    expect((await post(server.url, '/api/generate', gen)).status).toBe(503);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(503);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
    const chat = await (await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }] })).text();
    expect(chat.trim().split('\n').at(-1)).toContain('"error"');
    await admin('POST', '/faults', { kind: 'status', status: 500, times: 'always' });
    expect((await post(server.url, '/api/generate', gen)).status).toBe(500);
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
  });

  it('refuses a malformed fault with 400 naming what is wrong', async () => {
    const res = await admin('POST', '/faults', { kind: 'status', status: 200 });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/status fault needs an integer status in 400..599/);
    expect(JSON.parse((await admin('POST', '/faults', { kind: 'explode' })).body).error).toMatch(/unknown fault kind/);
  });

  it('GET /__fake/counts and /__fake/requests report without being counted; DELETE /__fake/counts resets', async () => {
    await post(server.url, '/api/generate', gen);
    await fetch(`${server.url}/api/tags`);
    const counts = JSON.parse((await admin('GET', '/counts')).body);
    expect(counts).toEqual({ counts: { '/api/generate': 1, '/api/tags': 1 }, modelCalls: 1 });
    expect(JSON.parse((await admin('GET', '/requests')).body)).toEqual({ requests: [{ route: '/api/generate', body: gen }] });
    expect((await admin('DELETE', '/counts')).status).toBe(204);
    expect(server.counts).toEqual({});
  });

  it('POST /__fake/models/:name/digest changes the digest in /api/tags, and the answers with it', async () => {
    const digestOf = async () => {
      const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Array<{ name: string; digest: string }> };
      return tags.models.find((m) => m.name === 'qwen2.5:0.5b')?.digest;
    };
    const before = await digestOf();
    const answerBefore = ((await (await post(server.url, '/api/generate', gen)).json()) as { response: string }).response;
    expect(answerBefore).toBe(fakeAnswer(gen).text);
    const res = JSON.parse((await admin('POST', `/models/${encodeURIComponent('qwen2.5:0.5b')}/digest`)).body) as { digest: string };
    expect(res.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await digestOf()).toBe(res.digest);
    expect(res.digest).not.toBe(before);
    const answerAfter = ((await (await post(server.url, '/api/generate', gen)).json()) as { response: string }).response;
    expect(answerAfter).not.toBe(answerBefore);
    const chosen = 'b'.repeat(64);
    expect(JSON.parse((await admin('POST', '/models/qwen2.5:0.5b/digest', { digest: `sha256:${chosen}` })).body).digest).toBe(chosen);
    expect((await admin('POST', '/models/nope/digest')).status).toBe(404);
    expect((await admin('POST', '/models/qwen2.5:0.5b/digest', { digest: 'xyz' })).status).toBe(400);
    // Back to the name-derived digest: the answers come back too.
    server.setModelDigest('qwen2.5:0.5b', before);
    expect(((await (await post(server.url, '/api/generate', gen)).json()) as { response: string }).response).toBe(answerBefore);
  });

  it('POST /__fake/settings changes pacing; unknown admin routes are a 404 listing the known ones', async () => {
    expect(JSON.parse((await admin('POST', '/settings', { latencyMs: 0, pullIntervalMs: 5 })).body)).toMatchObject({ latencyMs: 0, pullIntervalMs: 5 });
    expect((await admin('POST', '/settings', { latencyMs: -1 })).status).toBe(400);
    const unknown = await admin('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toContain('POST /__fake/faults');
  });
});
