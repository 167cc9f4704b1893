import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { send, startTestUpstream, type TestUpstream } from './helpers.js';

// A whole answer from the cache is written as Latin-1 when all of it is ASCII (the same bytes,
// copied rather than encoded) and as UTF-8 otherwise: either way, the bytes the miss carried.
const ASTRAL = 'a smile 🙂 and a rocket 🚀';
const TEXTS: Record<string, string> = {
  ascii: 'plain ASCII, nothing else',
  latin: 'café, naïve, 100 °C',
  wide: '日本語の答え',
  astral: ASTRAL,
};

describe('a cached whole answer keeps its bytes, ASCII or not', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;

  beforeAll(async () => {
    upstream = await startTestUpstream((_req, res, received) => {
      const request = JSON.parse(received.body.toString('utf8')) as { model: string; prompt?: string; messages?: unknown };
      const text = TEXTS[request.prompt ?? 'ascii'] as string;
      if (received.url.startsWith('/v1/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const choice = { index: 0, message: { role: 'assistant', content: ASTRAL.repeat(10) }, finish_reason: 'stop' };
        res.end(`${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: request.model, choices: [choice] })}\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ model: request.model, created_at: new Date().toISOString(), response: text, done: true, done_reason: 'stop' }));
    });
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false, cache: ollamaResponseCache(new MemoryBackend(), {}) });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  const withoutTime = (body: Buffer): string => body.toString('latin1').replace(/"created_at":"[^"]*"/g, '"created_at":""');

  for (const name of Object.keys(TEXTS)) {
    it(`${name}: the hit's bytes and Content-Length are the miss's`, async () => {
      const post = () => send(proxy.url, '/api/generate', { method: 'POST', body: JSON.stringify({ model: 'llama3.2', prompt: name, stream: false }) });
      const miss = await post();
      const hit = await post();
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      // Compared as raw bytes: a UTF-8 answer written as Latin-1 would differ here.
      expect(withoutTime(hit.body)).toBe(withoutTime(miss.body));
      expect(hit.headers['content-length']).toBe(String(hit.body.length));
      expect(JSON.parse(hit.text).response).toBe(TEXTS[name]);
    });
  }

  it('/v1: a non-ASCII completion comes back from the cache in its UTF-8 bytes', async () => {
    const post = () =>
      send(proxy.url, '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }) });
    const miss = await post();
    const hit = await post();
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(hit.headers['content-length']).toBe(String(hit.body.length));
    // Its head (id, created, model) is new, the rest the miss's bytes, and it ends with Go's newline.
    const rest = (reply: { body: Buffer }): string => reply.body.toString('latin1').slice(reply.body.toString('latin1').indexOf('"choices"'));
    expect(rest(hit)).toBe(rest(miss));
    expect(hit.body.at(-1)).toBe(0x0a);
    expect((JSON.parse(hit.text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe(ASTRAL.repeat(10));
  });
});
