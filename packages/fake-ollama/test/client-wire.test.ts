import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, type FakeOllamaServer, fakeAnswer, startFakeOllama } from '../src/index.js';

// Wire-format checks through the official ollama-js client.
let server: FakeOllamaServer;
let client: Ollama;

beforeAll(async () => {
  server = await startFakeOllama();
  client = new Ollama({ host: server.url });
});
afterAll(() => server.close());

describe('official ollama client', () => {
  it('generate (stream:false) returns the deterministic text and metrics', async () => {
    const res = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?' });
    expect(res.model).toBe('qwen2.5:0.5b');
    expect(res.done).toBe(true);
    expect(res.done_reason).toBe('stop');
    expect(res.response).toBe(fakeAnswer({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?' }).text);
    expect(String(res.response).trim().split(' ')).toHaveLength(12);
    expect(res.eval_count).toBe(12);
    expect(res.prompt_eval_count).toBe(5);
    expect(Array.isArray(res.context)).toBe(true);
    expect(res.total_duration).toBeGreaterThanOrEqual(res.load_duration + res.prompt_eval_duration + res.eval_duration);
    expect(Number.isNaN(Date.parse(String(res.created_at)))).toBe(false);
  });

  it('generate (stream:true) yields one token per chunk and ends with done + eval_count', async () => {
    const stream = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?', stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBe(12);
    expect(last?.response).toBe('');
    expect(chunks).toHaveLength(13);
    expect(chunks.slice(0, -1).every((c) => c.done === false && /^\S+ $/.test(String(c.response)))).toBe(true);
    const joined = chunks.map((c) => c.response).join('');
    const whole = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?' });
    expect(joined).toBe(whole.response);
  });

  it('chat stream and non-stream agree', async () => {
    const messages = [{ role: 'user', content: 'Hello there' }];
    const whole = await client.chat({ model: 'llama3.2', messages });
    expect(whole.message.role).toBe('assistant');
    expect(whole.message.content.length).toBeGreaterThan(0);
    expect(whole.done_reason).toBe('stop');
    expect(whole.model).toBe('llama3.2');
    const stream = await client.chat({ model: 'llama3.2', messages, stream: true });
    let text = '';
    let done = false;
    for await (const chunk of stream) {
      expect(chunk.message.role).toBe('assistant');
      text += chunk.message.content;
      done = chunk.done;
    }
    expect(done).toBe(true);
    expect(text).toBe(whole.message.content);
  });

  it('embed returns L2-normalised vectors per input', async () => {
    const res = await client.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(res.model).toBe('nomic-embed-text');
    expect(res.embeddings).toHaveLength(2);
    for (const v of res.embeddings) {
      // nomic-embed-text's native length (Ollama returns the model's size, routes.go:983-992).
      expect(v).toHaveLength(768);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    expect(res.embeddings[0]).not.toEqual(res.embeddings[1]);
  });

  it('list, show and version', async () => {
    const list = await client.list();
    expect(list.models.map((m) => m.name)).toEqual([...DEFAULT_MODELS]);
    for (const m of list.models) expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
    const show = await client.show({ model: 'nomic-embed-text' });
    expect(show.capabilities).toEqual(['embedding']);
    expect(show.details.format).toBe('gguf');
    const show2 = await client.show({ model: 'QWEN2.5:0.5B' });
    // Real Ollama gives qwen2.5 completion + tools (M7, model capabilities from its template).
    expect(show2.capabilities).toEqual(['completion', 'tools']);
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown model raises ResponseError with status_code 404', async () => {
    const err = await client.generate({ model: 'nope', prompt: 'hi' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 404, error: "model 'nope' not found" });
    const embedErr = await client.embed({ model: 'nope', input: 'hi' }).catch((e: unknown) => e);
    expect(embedErr).toMatchObject({ status_code: 404, error: 'model "nope" not found, try pulling it first' });
  });

  it('a midstream fault makes the stream iterator throw the error line', async () => {
    server.failNext({ kind: 'midstream', afterChunks: 3 });
    const stream = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'x', stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(String(chunk.response));
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/error was encountered/);
  });

  it('a truncate fault makes the iterator report the missing done chunk', async () => {
    server.failNext({ kind: 'truncate', afterChunks: 2 });
    const stream = await client.chat({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }], stream: true });
    const err = await (async () => {
      for await (const _chunk of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect((err as Error).message).toBe('Did not receive done or success response in stream.');
  });

  it('a chat with tools about the weather yields a tool call', async () => {
    const res = await client.chat({
      model: 'qwen2.5:0.5b',
      messages: [{ role: 'user', content: 'What is the weather in Berlin today?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'City' } } },
          },
        },
      ],
    });
    const call = res.message.tool_calls?.[0];
    expect(call?.function.name).toBe('get_weather');
    expect(call?.function.arguments).toEqual({ city: 'Berlin' });
    expect((call as unknown as { id: string }).id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(res.message.content).toBe('');
  });
});
