import type { CacheBackend } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { beforeEach, describe, expect, it } from 'vitest';
import { startProxy } from '../src/index.js';
import { send, useStack } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const cache = ollamaResponseCache(new MemoryBackend(), {});
const stack = useStack({}, { cache });
beforeEach(() => stack.fake.resetCounts());

const post = (body: string | object, path = '/api/generate', base = stack.proxy.url) =>
  send(base, path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('what is never cached, and failures', () => {
  it('a body that is not JSON goes to Ollama unchanged: its own error, X-Cache: BYPASS, nothing stored', async () => {
    const reply = await post('{"model": "qwen2.5:0.5b", "prompt": ');
    expect(reply.headers['x-cache']).toBe('BYPASS');
    expect(reply.status).toBe(400);
    expect(stack.fake.requests.at(-1)?.body).toBe('{"model": "qwen2.5:0.5b", "prompt": ');
  });

  it('an error status from Ollama passes through as it is and is never stored', async () => {
    const body = { model: 'no-such-model', prompt: 'x', stream: false };
    const direct = await send(stack.fake.url, '/api/generate', { method: 'POST', body: JSON.stringify(body) });
    const first = await post(body);
    expect(first.status).toBe(direct.status);
    expect(first.text).toBe(direct.text);
    expect(first.headers['x-cache']).toBe('MISS');
    expect((await post(body)).headers['x-cache']).toBe('MISS');
  });

  it('a request Ollama refuses (a bad option type) is answered by Ollama and not stored', async () => {
    const body = { model: MODEL, prompt: 'refused', stream: false, options: { temperature: 'hot' } };
    const reply = await post(body);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect((await post(body)).status).toBe(reply.status);
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('a mid-stream error reaches the client as Ollama sent it, and nothing is stored', async () => {
    stack.fake.failNext({ kind: 'midstream', afterChunks: 2 });
    const body = { model: MODEL, prompt: 'breaks midway' };
    const reply = await post(body);
    const lines = reply.text.split('\n').filter(Boolean);
    expect(JSON.parse(lines.at(-1) as string)).toHaveProperty('error');
    expect((await post(body)).headers['x-cache']).toBe('MISS');
  });

  it('a stream cut before done is not stored', async () => {
    stack.fake.failNext({ kind: 'truncate', afterChunks: 3 });
    const body = { model: MODEL, prompt: 'cut short' };
    await post(body);
    expect((await post(body)).headers['x-cache']).toBe('MISS');
  });

  it('Ollama unreachable: 502 naming it, in the route shape, counted', async () => {
    const proxy = await startProxy({ port: 0, upstream: 'http://127.0.0.1:9', processMetrics: false, cache: ollamaResponseCache(new MemoryBackend(), {}) });
    try {
      const native = await post({ model: MODEL, prompt: 'nobody home', stream: false }, '/api/generate', proxy.url);
      expect(native.status).toBe(502);
      expect(JSON.parse(native.text).error).toMatch(/cannot reach Ollama at http:\/\/127\.0\.0\.1:9/);
      const openai = await post({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }, '/v1/chat/completions', proxy.url);
      expect(openai.status).toBe(502);
      expect(JSON.parse(openai.text).error.type).toBe('api_error');
      expect(proxy.counters.upstreamUnreachable).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });

  it('a store that fails never fails a request: the answer comes from Ollama and the error is counted', async () => {
    const broken: CacheBackend = {
      name: 'broken',
      capabilities: {},
      get: () => Promise.reject(new Error('store down')),
      set: () => Promise.reject(new Error('store down')),
      delete: () => Promise.reject(new Error('store down')),
      has: () => Promise.reject(new Error('store down')),
      clear: () => Promise.reject(new Error('store down')),
      stats: () => Promise.reject(new Error('store down')),
      close: () => undefined,
    };
    const failing = ollamaResponseCache(broken, {});
    const proxy = await startProxy({ port: 0, upstream: stack.fake.url, processMetrics: false, cache: failing });
    try {
      const body = { model: MODEL, prompt: 'store down', stream: false };
      const reply = await post(body, '/api/generate', proxy.url);
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text).response.length).toBeGreaterThan(0);
      expect(['MISS', 'BYPASS']).toContain(reply.headers['x-cache']);
      expect(failing.getMetrics().errors).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });
});
