import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { ndjson, post } from './helpers.js';

// NDJSON framing and field layout of raw streamed answers.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ answerTokens: 5 });
});
afterAll(() => server.close());

describe('NDJSON streaming', () => {
  it('streams generate by default with one JSON object per line', async () => {
    const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(res.headers.get('content-length')).toBeNull();
    const lines = await ndjson(res);
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(0, -1)) {
      expect(Object.keys(line)).toEqual(['model', 'created_at', 'response', 'done']);
      expect(line.done).toBe(false);
      // L4: Go's RFC3339Nano trims trailing zeros, so up to 9 fractional digits.
      expect(line.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    }
    const final = lines.at(-1) ?? {};
    expect(final).toMatchObject({ model: 'qwen2.5:0.5b', response: '', done: true, done_reason: 'stop', eval_count: 5 });
    for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
      expect(Number.isInteger(final[k]) && (final[k] as number) > 0).toBe(true);
    }
    expect(Array.isArray(final.context)).toBe(true);
  });

  it('omits context when raw is true', async () => {
    const lines = await ndjson(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'hello', raw: true }));
    expect(lines.at(-1)).not.toHaveProperty('context');
  });

  it('streams chat chunks with an assistant message and a final empty message', async () => {
    const res = await post(server.url, '/api/chat', { model: 'llama3.2:latest', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = await ndjson(res);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatchObject({ model: 'llama3.2:latest', message: { role: 'assistant' }, done: false });
    expect(lines.at(-1)).toMatchObject({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' });
    expect(lines.at(-1)).not.toHaveProperty('context');
  });

  it('stream:false answers one JSON document with the joined text', async () => {
    const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'hello', stream: false });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    const streamed = await ndjson(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'hello' }));
    expect(body.response).toBe(streamed.map((l) => l.response).join(''));
    expect(body.done).toBe(true);
  });

  it('think:true sends thinking chunks before the response and joins them without streaming', async () => {
    const lines = await ndjson(await post(server.url, '/api/generate', { model: 'qwen3:0.6b', prompt: 'hm', think: true }));
    const firstResponse = lines.findIndex((l) => l.response !== '');
    expect(firstResponse).toBeGreaterThan(0);
    expect(lines.slice(0, firstResponse).every((l) => typeof l.thinking === 'string' && l.thinking !== '')).toBe(true);
    expect(lines.slice(firstResponse).some((l) => 'thinking' in l)).toBe(false);
    const whole = (await (await post(server.url, '/api/generate', { model: 'qwen3:0.6b', prompt: 'hm', think: true, stream: false })).json()) as Record<
      string,
      unknown
    >;
    expect(whole.thinking).toBe(lines.map((l) => l.thinking ?? '').join(''));
  });

  it('format json produces a valid JSON object split over chunks', async () => {
    const lines = await ndjson(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', format: 'json' }));
    expect(lines.length).toBeGreaterThan(2);
    const text = lines.map((l) => l.response).join('');
    expect(JSON.parse(text)).toHaveProperty('answer');
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, ok: { type: 'boolean' } } };
    const res = await post(server.url, '/api/chat', {
      model: 'qwen2.5:0.5b',
      messages: [{ role: 'user', content: 'x' }],
      format: schema,
      stream: false,
    });
    const parsed = JSON.parse(((await res.json()) as { message: { content: string } }).message.content) as Record<string, unknown>;
    expect(typeof parsed.name).toBe('string');
    expect(Number.isInteger(parsed.age)).toBe(true);
    expect(typeof parsed.ok).toBe('boolean');
  });

  it('num_predict sets the length and reports done_reason "length"', async () => {
    const lines = await ndjson(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', options: { num_predict: 3 } }));
    expect(lines).toHaveLength(4);
    expect(lines.at(-1)).toMatchObject({ done_reason: 'length', eval_count: 3 });
  });

  it('streams a tool call whole in a single chunk', async () => {
    const lines = await ndjson(
      await post(server.url, '/api/chat', {
        model: 'qwen2.5:0.5b',
        messages: [{ role: 'user', content: 'weather please' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      }),
    );
    expect(lines).toHaveLength(2);
    const message = lines[0]?.message as { tool_calls: Array<{ id: string; function: Record<string, unknown> }> };
    const calls = message.tool_calls;
    expect(calls).toHaveLength(1);
    expect(calls[0]?.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(calls[0]?.function).toEqual({ index: 0, name: 'lookup', arguments: {} });
    expect(lines[1]).toMatchObject({ done: true, done_reason: 'stop' });
  });
});
