import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// Empty prompt / messages load (or unload) the model instead of answering.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

describe('load and unload replies', () => {
  it('generate with no prompt answers done_reason "load" as one JSON document', async () => {
    const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'qwen2.5:0.5b', response: '', done: true, done_reason: 'load' });
    expect(body).not.toHaveProperty('eval_count');
  });

  it('keep_alive 0 turns it into "unload"', async () => {
    for (const keep_alive of [0, '0', '0s']) {
      const body = (await (await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: '', keep_alive })).json()) as {
        done_reason: string;
      };
      expect(body.done_reason).toBe('unload');
    }
  });

  it('chat with no messages answers an empty assistant message', async () => {
    const body = (await (await post(server.url, '/api/chat', { model: 'llama3.2', messages: [] })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'load' });
    const unload = (await (await post(server.url, '/api/chat', { model: 'llama3.2', keep_alive: 0 })).json()) as Record<string, unknown>;
    expect(unload.done_reason).toBe('unload');
  });
});
