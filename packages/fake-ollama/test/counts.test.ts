import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// Per-route counts, modelCalls() and the request log.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
beforeEach(() => server.resetCounts());
afterAll(() => server.close());

describe('counts', () => {
  it('counts requests per route and model calls across generate/chat/embed', async () => {
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'a', stream: false });
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'b', stream: false });
    await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'c' }], stream: false });
    await post(server.url, '/api/embed', { model: 'nomic-embed-text', input: 'd' });
    await fetch(`${server.url}/api/tags`);
    await fetch(`${server.url}/api/version`);
    expect(server.counts['/api/generate']).toBe(2);
    expect(server.counts['/api/chat']).toBe(1);
    expect(server.counts['/api/embed']).toBe(1);
    expect(server.counts['/api/tags']).toBe(1);
    expect(server.modelCalls()).toBe(4);
  });

  it('logs model-route bodies newest last, including invalid ones', async () => {
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'first', stream: false });
    await post(server.url, '/api/embed', 'not json');
    await fetch(`${server.url}/api/tags`);
    expect(server.requests).toEqual([
      { route: '/api/generate', body: { model: 'qwen2.5:0.5b', prompt: 'first', stream: false } },
      { route: '/api/embed', body: 'not json' },
    ]);
    expect(server.modelCalls()).toBe(2);
  });

  it('counts faulted requests too', async () => {
    server.failNext({ kind: 'status', status: 500 });
    server.failNext({ kind: 'reset' });
    expect((await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x' })).status).toBe(500);
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x' }).catch(() => undefined);
    expect(server.counts['/api/generate']).toBe(2);
    expect(server.modelCalls()).toBe(2);
  });

  it('resetCounts() zeroes counts and empties the log in place', async () => {
    const counts = server.counts;
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', stream: false });
    server.resetCounts();
    expect(counts).toEqual({});
    expect(server.requests).toHaveLength(0);
    expect(server.modelCalls()).toBe(0);
  });
});
