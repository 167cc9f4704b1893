import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { beforeEach, describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

// Issue 16 part 5: the key and never-store rules against what real Ollama does (the fake follows
// Ollama's source; ../../fake-ollama/README.md lists what it models).
const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}) });
beforeEach(() => stack.fake.resetCounts());
const post = (path: string, body: unknown) =>
  send(stack.proxy.url, path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('what real Ollama refuses is never cached, and never answered from the cache', () => {
  it('a keep_alive Ollama refuses reaches Ollama, even when the same request without it is cached', async () => {
    const body = { model: MODEL, prompt: 'keep alive', stream: false };
    await post('/api/generate', body);
    const refused = await post('/api/generate', { ...body, keep_alive: '10' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error).toBe('time: missing unit in duration "10"');
    expect(refused.headers['x-cache']).toBe('BYPASS');
    expect((await post('/api/generate', { ...body, keep_alive: '10m' })).headers['x-cache']).toBe('HIT');
  });

  it('a runtime option of the wrong type reaches Ollama (its 500), not the cached answer', async () => {
    const body = { model: MODEL, prompt: 'threads', stream: false };
    await post('/api/generate', body);
    const refused = await post('/api/generate', { ...body, options: { num_thread: 'many' } });
    expect(refused.status).toBe(500);
    expect((await post('/api/generate', { ...body, options: { num_thread: 8 } })).headers['x-cache']).toBe('HIT');
  });

  it('think on a model without the thinking capability, and raw with a system prompt: refused each time, never stored', async () => {
    for (const body of [
      { model: MODEL, prompt: 'think', think: true, stream: false },
      { model: MODEL, prompt: 'raw', raw: true, system: 'x', stream: false },
    ]) {
      const first = await post('/api/generate', body);
      const second = await post('/api/generate', body);
      expect(first.status).toBe(400);
      expect(second.status).toBe(400);
      expect(second.headers['x-cache']).toBe('MISS');
    }
    expect(stack.fake.modelCalls()).toBe(4);
  });

  it('spellings Ollama treats as one model share one entry; each caller sees its own spelling', async () => {
    const spellings = [MODEL, `library/${MODEL}`, `registry.ollama.ai/library/${MODEL}`, ' Qwen2.5:0.5B '];
    const replies = [];
    for (const model of spellings) replies.push(await post('/api/generate', { model, prompt: 'one model', stream: false }));
    expect(replies.map((r) => r.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT', 'HIT']);
    expect(replies.map((r) => JSON.parse(r.text).model)).toEqual(spellings);
    expect(new Set(replies.map((r) => JSON.parse(r.text).response)).size).toBe(1);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('a malformed model name is answered by Ollama (400) and not cached', async () => {
    const reply = await post('/api/generate', { model: 'bad name!', prompt: 'x', stream: false });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toBe('invalid model name');
  });
});
