import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeAnswer, startFakeOllama } from '../src/index.js';
import { ndjson, post } from './helpers.js';

// M3, M4: the inputs Ollama refuses, refused the same way; logprobs answered like Ollama.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ answerTokens: 3 });
});
afterAll(() => server.close());

const gen = { model: 'qwen2.5:0.5b', prompt: 'hi' };

async function outcome(path: string, body: unknown): Promise<{ status: number; error?: string; type: string | null }> {
  const res = await post(server.url, path, body);
  const text = await res.text();
  const parsed = text.startsWith('{') ? (JSON.parse(text.split('\n')[0] ?? '{}') as { error?: string }) : {};
  return { status: res.status, ...(parsed.error ? { error: parsed.error } : {}), type: res.headers.get('content-type') };
}

describe('refused inputs', () => {
  it('raw with system, template or context is a 400 (routes.go:422-425)', async () => {
    for (const extra of [{ system: 's' }, { template: '{{ .Prompt }}' }, { context: [1, 2] }]) {
      expect(await outcome('/api/generate', { ...gen, raw: true, ...extra })).toMatchObject({
        status: 400,
        error: 'raw mode does not support template, system, or context',
      });
    }
    expect((await outcome('/api/generate', { ...gen, raw: true, stream: false })).status).toBe(200);
  });

  it('keep_alive must be seconds or a Go duration (types.go:1243-1270)', async () => {
    expect(await outcome('/api/generate', { ...gen, keep_alive: '10' })).toMatchObject({ status: 400, error: 'time: missing unit in duration "10"' });
    expect(await outcome('/api/chat', { model: 'qwen2.5:0.5b', messages: [], keep_alive: true })).toMatchObject({
      status: 400,
      error: "Unsupported type: 'bool'",
    });
    expect(await outcome('/api/generate', { ...gen, keep_alive: '-1' })).toMatchObject({ status: 400, error: 'time: missing unit in duration "-1"' });
    expect(await outcome('/api/embed', { model: 'nomic-embed-text', input: 'x', keep_alive: '1d' })).toMatchObject({
      status: 400,
      error: 'time: unknown unit "d" in duration "1d"',
    });
    for (const keep_alive of ['5m', '1h30m', '-1m', -1, 300, '0.5s']) {
      expect((await outcome('/api/generate', { ...gen, keep_alive, stream: false })).status, String(keep_alive)).toBe(200);
    }
  });

  it('a wrongly typed option is a 500 (types.go:991-1090 via handleScheduleError, routes.go:3107-3120)', async () => {
    expect(await outcome('/api/generate', { ...gen, options: { temperature: 'hot' } })).toMatchObject({
      status: 500,
      error: 'option "temperature" must be of type float32',
    });
    expect(await outcome('/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }], options: { num_ctx: '4k' } })).toMatchObject({
      status: 500,
      error: 'option "num_ctx" must be of type integer',
    });
    expect(await outcome('/api/generate', { ...gen, options: { stop: 'END' } })).toMatchObject({ status: 500, error: 'option "stop" must be of type array' });
    expect((await outcome('/api/generate', { ...gen, options: { unknown_option: 'x' }, stream: false })).status).toBe(200);
  });

  it('a format that is neither "json" nor an object is a 500 (llama_server.go:1583-1597)', async () => {
    const error = 'invalid format: "\\"yaml\\""; expected "json" or a valid JSON Schema object';
    expect(await outcome('/api/generate', { ...gen, format: 'yaml', stream: false })).toEqual({ status: 500, error, type: 'application/json; charset=utf-8' });
    // A stream that has written nothing yet answers with the status, as application/json (routes.go:2109-2118).
    expect(await outcome('/api/generate', { ...gen, format: 'yaml' })).toEqual({ status: 500, error, type: 'application/json' });
  });

  it('invalid base64 in images is a 400 from JSON decoding into []byte', async () => {
    expect(await outcome('/api/generate', { ...gen, images: ['not base64!'] })).toMatchObject({ status: 400, error: 'illegal base64 data at input byte 3' });
    expect(await outcome('/api/chat', { model: 'llava:7b', messages: [{ role: 'user', content: 'x', images: ['abc'] }] })).toMatchObject({
      status: 400,
      error: 'illegal base64 data at input byte 0',
    });
  });

  it('top_logprobs outside 0..20 is a 400 (routes.go:256-258)', async () => {
    for (const top_logprobs of [-1, 21, 99]) {
      expect(await outcome('/api/generate', { ...gen, logprobs: true, top_logprobs })).toMatchObject({
        status: 400,
        error: 'top_logprobs must be between 0 and 20',
      });
    }
  });
});

describe('logprobs (M3)', () => {
  it('streams logprobs per chunk with top_logprobs, and joins them under stream:false (routes.go:682, 750-789)', async () => {
    const lines = await ndjson(await post(server.url, '/api/generate', { ...gen, logprobs: true, top_logprobs: 2 }));
    const content = lines.filter((l) => l.done === false);
    expect(content).toHaveLength(3);
    for (const l of content) {
      const [lp] = l.logprobs as Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: unknown[] }>;
      expect(lp?.token).toBe(l.response);
      expect(lp?.logprob).toBeLessThanOrEqual(0);
      expect(lp?.bytes).toEqual([...Buffer.from(String(l.response))]);
      expect(lp?.top_logprobs).toHaveLength(2);
    }
    expect(lines.at(-1)).not.toHaveProperty('logprobs');
    const whole = (await (await post(server.url, '/api/generate', { ...gen, logprobs: true, top_logprobs: 2, stream: false })).json()) as {
      logprobs: unknown[];
    };
    expect(whole.logprobs).toEqual(content.flatMap((l) => l.logprobs as unknown[]));
  });

  it('sends no logprobs unless asked, and never changes the text', async () => {
    const plain = (await (
      await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }], stream: false })
    ).json()) as Record<string, unknown>;
    expect(plain).not.toHaveProperty('logprobs');
    const withLp = (await (
      await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }], stream: false, logprobs: true })
    ).json()) as Record<string, unknown>;
    expect(withLp.message).toEqual(plain.message);
    expect(Array.isArray(withLp.logprobs)).toBe(true);
  });

  it('answers a null field as if it were absent, as Go does', async () => {
    const a = (await (await post(server.url, '/api/generate', { ...gen, system: null, stream: false })).json()) as { response: string };
    expect(a.response).toBe(fakeAnswer(gen, { answerTokens: 3 }).text);
  });
});
