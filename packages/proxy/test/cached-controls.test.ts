import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { beforeEach, describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}) });
beforeEach(() => stack.fake.resetCounts());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(stack.proxy.url, path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
let n = 0;
const fresh = () => ({ model: MODEL, prompt: `controls ${n++}`, stream: false });

describe('per-request cache controls on the cached routes', () => {
  it('Cache-Control: no-cache asks the model again and stores the fresh answer', async () => {
    const body = fresh();
    await post('/api/generate', body);
    const refreshed = await post('/api/generate', body, { 'Cache-Control': 'no-cache' });
    expect(refreshed.headers['x-cache']).toBe('MISS');
    expect((await post('/api/generate', body)).headers['x-cache']).toBe('HIT');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('Cache-Control: no-store answers without storing; a stored answer is still served', async () => {
    const body = fresh();
    expect((await post('/api/generate', body, { 'Cache-Control': 'no-store' })).headers['x-cache']).toBe('MISS');
    expect((await post('/api/generate', body)).headers['x-cache']).toBe('MISS');
    expect((await post('/api/generate', body, { 'Cache-Control': 'no-store' })).headers['x-cache']).toBe('HIT');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('Cache-Control: only-if-cached: a miss is 504 in the route shape, the model is not asked', async () => {
    const body = fresh();
    const native = await post('/api/generate', body, { 'Cache-Control': 'only-if-cached' });
    expect(native.status).toBe(504);
    expect(JSON.parse(native.text)).toEqual({ error: expect.stringContaining('only-if-cached') });
    const openai = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, { 'Cache-Control': 'only-if-cached' });
    expect(openai.status).toBe(504);
    expect(JSON.parse(openai.text)).toEqual({ error: { message: expect.stringContaining('only-if-cached'), type: 'api_error', param: null, code: null } });
    expect(stack.fake.modelCalls()).toBe(0);
    await post('/api/generate', body);
    expect((await post('/api/generate', body, { 'Cache-Control': 'only-if-cached' })).headers['x-cache']).toBe('HIT');
  });

  it('Cache-Control: max-age=N serves an answer at most N seconds old, else asks again', async () => {
    const body = fresh();
    await post('/api/generate', body);
    expect((await post('/api/generate', body, { 'Cache-Control': 'max-age=60' })).headers['x-cache']).toBe('HIT');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post('/api/generate', body, { 'Cache-Control': 'max-age=0' })).headers['x-cache']).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('X-TinyLLM-TTL sets the entry TTL in seconds', async () => {
    const body = fresh();
    await post('/api/generate', body, { 'X-TinyLLM-TTL': '1' });
    expect((await post('/api/generate', body)).headers['x-cache']).toBe('HIT');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post('/api/generate', body)).headers['x-cache']).toBe('MISS');
  });

  it('namespaces, by header or by path prefix, never share entries', async () => {
    const body = fresh();
    await post('/api/generate', body, { 'X-TinyLLM-Namespace': 'team-a' });
    expect((await post('/ns/team-a/api/generate', body)).headers['x-cache']).toBe('HIT');
    expect((await post('/api/generate', body, { 'X-TinyLLM-Namespace': 'team-b' })).headers['x-cache']).toBe('MISS');
    expect((await post('/api/generate', body)).headers['x-cache']).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(3);
  });

  it('a bad control value is a 400 naming it, in the route shape', async () => {
    const ttl = await post('/api/generate', fresh(), { 'X-TinyLLM-TTL': '0' });
    expect(ttl.status).toBe(400);
    expect(JSON.parse(ttl.text).error).toMatch(/X-TinyLLM-TTL/);
    expect(stack.fake.modelCalls()).toBe(0);
  });
});
