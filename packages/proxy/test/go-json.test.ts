import type { ServerResponse } from 'node:http';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { send, startTestUpstream, type TestUpstream } from './helpers.js';

// Ollama writes JSON with Go's encoding/json, which escapes <, > and & inside strings; an answer
// from the cache must come back in the same bytes as the answer Ollama sent (but for the fields each
// caller gets afresh), streamed or not, whether Ollama's own bytes or the cache's serialisation.
const TEXT = '<think>a & b</think> done';
const goJson = (value: unknown): string => JSON.stringify(value).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
const finalFields = { done: true, done_reason: 'stop', total_duration: 1_000_000, eval_count: 3, prompt_eval_count: 2 };

// The same answer as Ollama's /v1 layer writes it (json.Encoder: a newline after a whole body).
function openAi(res: ServerResponse, model: string, stream: boolean): void {
  const base = { id: 'chatcmpl-1', created: Math.floor(Date.now() / 1000), model, system_fingerprint: 'fp_ollama' };
  const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };
  if (!stream) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const choice = { index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' };
    res.end(`${goJson({ ...base, object: 'chat.completion', choices: [choice], usage })}\n`);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream' });
  const chunk = (delta: object, finish: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
  res.write(`data: ${goJson(chunk({ role: 'assistant', content: '<think>' }, null))}\n\n`);
  res.write(`data: ${goJson(chunk({ role: 'assistant', content: 'a & b</think> done' }, null))}\n\n`);
  res.write(`data: ${goJson(chunk({ role: 'assistant', content: '' }, 'stop'))}\n\n`);
  res.write(`data: ${goJson({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

describe('answers keep Go’s JSON escaping, from Ollama and from the cache', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;

  beforeAll(async () => {
    upstream = await startTestUpstream((_req, res, received) => {
      const request = JSON.parse(received.body.toString('utf8')) as { model: string; stream?: boolean };
      if (received.url.startsWith('/v1/')) return openAi(res, request.model, request.stream === true);
      const at = new Date().toISOString();
      if (request.stream === false) {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(goJson({ model: request.model, created_at: at, response: TEXT, ...finalFields }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      for (const piece of ['<think>', 'a & b', '</think> done'])
        res.write(`${goJson({ model: request.model, created_at: at, response: piece, done: false })}\n`);
      res.end(`${goJson({ model: request.model, created_at: at, response: '', ...finalFields })}\n`);
    });
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false, cache: ollamaResponseCache(new MemoryBackend(), {}) });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  const post = (body: unknown) =>
    send(proxy.url, '/api/generate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const withoutTime = (text: string): string => text.replace(/"created_at":"[^"]*"/g, '"created_at":""');

  it('a whole answer: the hit is byte for byte the miss (Ollama’s own bytes), created_at aside', async () => {
    const body = { model: 'llama3.2', prompt: 'tags', stream: false };
    const miss = await post(body);
    const hit = await post(body);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(miss.text).toContain('\\u003cthink\\u003ea \\u0026 b');
    expect(withoutTime(hit.text)).toBe(withoutTime(miss.text));
    expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(hit.text)));
    expect(JSON.parse(hit.text).response).toBe(TEXT);
  });

  it('a stream: the live chunks and the replay are escaped as Ollama escapes them, and carry the same text', async () => {
    const body = { model: 'llama3.2', prompt: 'tags, streamed' };
    const miss = await post(body);
    const hit = await post(body);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    for (const reply of [miss, hit]) {
      expect(reply.text).not.toMatch(/[<>&]/);
      expect(reply.text).toContain('\\u003cthink\\u003e');
      const lines = reply.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { response: string });
      expect(lines.map((line) => line.response).join('')).toBe(TEXT);
    }
    // A non-streaming request on the streamed entry: the assembled answer, escaped the same way.
    const whole = await post({ ...body, stream: false });
    expect(whole.headers['x-cache']).toBe('HIT');
    expect(whole.text).toContain('"response":"\\u003cthink\\u003ea \\u0026 b\\u003c/think\\u003e done"');
    expect(whole.headers['content-length']).toBe(String(Buffer.byteLength(whole.text)));
  });

  it('/v1: a completion and its SSE replay keep the escaping too', async () => {
    const v1 = (body: object) =>
      send(proxy.url, '/v1/chat/completions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const body = { model: 'llama3.2', messages: [{ role: 'user', content: 'tags' }] };
    const miss = await v1(body);
    const hit = await v1(body);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(hit.text).toContain('"content":"\\u003cthink\\u003ea \\u0026 b\\u003c/think\\u003e done"');
    expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(hit.text)));
    const streamed = { ...body, messages: [{ role: 'user', content: 'tags, streamed' }], stream: true };
    const replies = [await v1(streamed), await v1(streamed)];
    expect(replies.map((reply) => reply.headers['x-cache'])).toEqual(['MISS', 'HIT']);
    for (const reply of replies) {
      expect(reply.text).not.toMatch(/[<>&]/);
      const frames = reply.text.split('\n\n').filter((frame) => frame.startsWith('data: {'));
      const content = frames.map(
        (frame) => (JSON.parse(frame.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '',
      );
      expect(content.join('')).toBe(TEXT);
    }
  });
});
