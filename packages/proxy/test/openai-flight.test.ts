import { request } from 'node:http';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { send, useStack, waitFor } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}) });
beforeEach(() => {
  stack.fake.resetCounts();
  stack.fake.setLatency(0);
  stack.fake.setTokensPerSecond(0);
});
const openai = () => new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: 'ollama', maxRetries: 0 });
const post = (body: unknown) =>
  send(stack.proxy.url, '/v1/chat/completions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('/v1 streams: one upstream call, nothing partial stored', () => {
  it('100 concurrent identical streaming requests: 1 upstream call, every stream complete and identical', async () => {
    stack.fake.setLatency(100);
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'a hundred at once' }], stream: true as const };
    const texts = await Promise.all(
      Array.from({ length: 100 }, async () => {
        let text = '';
        let finish: string | null | undefined;
        for await (const chunk of await openai().chat.completions.create(body)) {
          text += chunk.choices[0]?.delta.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        return `${text}|${finish}`;
      }),
    );
    expect(stack.fake.modelCalls()).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toMatch(/\|stop$/);
  });

  it('a client that drops mid-stream: nothing is stored', async () => {
    stack.fake.setTokensPerSecond(20);
    const body = { model: MODEL, messages: [{ role: 'user', content: 'drop me' }], stream: true, max_tokens: 40 };
    const url = new URL(stack.proxy.url);
    let frames = 0;
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: '/v1/chat/completions', method: 'POST', agent: false }, (res) => {
        res.on('data', () => {
          frames++;
          if (frames === 2) req.destroy();
        });
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
      req.end(JSON.stringify(body));
    });
    await waitFor(() => frames >= 2, 5000, 'two frames');
    stack.fake.setTokensPerSecond(0);
    const again = await post({ ...body, stream: false });
    expect(again.headers['x-cache']).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('an upstream error mid-stream: the client gets the frames Ollama sent, no [DONE], and nothing is stored', async () => {
    stack.fake.failNext({ kind: 'midstream', afterChunks: 2 });
    const body = { model: MODEL, messages: [{ role: 'user', content: 'break mid-stream' }], stream: true };
    const reply = await post(body);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('data: ');
    expect(reply.text).not.toContain('[DONE]');
    expect((await post(body)).headers['x-cache']).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('errors keep the OpenAI shape: an unknown model passes through as Ollama answers it', async () => {
    const direct = await send(stack.fake.url, '/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    });
    const proxied = await post({ model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    expect(proxied.status).toBe(direct.status);
    expect(JSON.parse(proxied.text)).toEqual(JSON.parse(direct.text));
    expect(JSON.parse(proxied.text).error.type).toBe('not_found_error');
  });
});
