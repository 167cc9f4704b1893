import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeAnswer, fakeEmbedding, fromChatCompletionRequest, startFakeOllama } from '../src/index.js';

// H3: the official openai SDK as a real client of the fake's /v1 routes.
let server: FakeOllamaServer;
let client: OpenAI;
beforeAll(async () => {
  server = await startFakeOllama({ answerTokens: 5 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'ollama', maxRetries: 0 });
});
afterAll(() => server.close());

const messages = [{ role: 'user' as const, content: 'Write a haiku about caching.' }];

describe('openai SDK', () => {
  it('chat.completions.create, streamed and not, gives the same deterministic text', async () => {
    const whole = await client.chat.completions.create({ model: 'qwen2.5:0.5b', messages });
    const expected = fakeAnswer(fromChatCompletionRequest({ model: 'qwen2.5:0.5b', messages }).native, { answerTokens: 5 }).text;
    expect(whole.choices[0]?.message.content).toBe(expected);
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    expect(whole.usage?.completion_tokens).toBe(5);
    const stream = await client.chat.completions.create({ model: 'qwen2.5:0.5b', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(expected);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 5 });
  });

  it('tools produce a tool call the SDK parses', async () => {
    const res = await client.chat.completions.create({
      model: 'qwen2.5:0.5b',
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      ],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call && 'function' in call ? JSON.parse(call.function.arguments) : undefined).toEqual({ city: 'Oslo' });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('response_format json_schema answers JSON following the schema', async () => {
    const res = await client.chat.completions.create({
      model: 'qwen2.5:0.5b',
      messages,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'p', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } } },
      },
    });
    const parsed = JSON.parse(res.choices[0]?.message.content ?? '') as { name: string; age: number };
    expect(typeof parsed.name).toBe('string');
    expect(Number.isInteger(parsed.age)).toBe(true);
  });

  it('completions.create and embeddings.create (string and array)', async () => {
    const completion = await client.completions.create({ model: 'qwen2.5:0.5b', prompt: 'Once upon a time' });
    expect(completion.choices[0]?.text.trim().split(' ')).toHaveLength(5);
    const one = await client.embeddings.create({ model: 'nomic-embed-text', input: 'hello', encoding_format: 'float' });
    expect(one.data[0]?.embedding).toEqual(fakeEmbedding('nomic-embed-text', 'hello'));
    // The SDK asks for base64 by default and decodes it back to floats.
    const many = await client.embeddings.create({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(many.data).toHaveLength(2);
    many.data[1]?.embedding.slice(0, 8).forEach((x, i) => {
      expect(x).toBeCloseTo(fakeEmbedding('nomic-embed-text', 'b')[i] ?? 0, 6);
    });
  });

  it('models.list and models.retrieve', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('qwen2.5:0.5b');
    expect((await client.models.retrieve('llama3.2:latest')).owned_by).toBe('library');
  });

  it("errors surface as APIError with Ollama's status and message", async () => {
    const err = await client.chat.completions.create({ model: 'nope', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(404);
    expect((err as APIError).message).toContain("model 'nope' not found");
    server.failNext({ kind: 'status', status: 503 });
    const busy = await client.chat.completions.create({ model: 'qwen2.5:0.5b', messages }).catch((e: unknown) => e);
    expect((busy as APIError).status).toBe(503);
  });

  it('a midstream fault ends the SDK stream without [DONE] and without a finish_reason', async () => {
    server.failNext({ kind: 'midstream', afterChunks: 2 });
    const stream = await client.chat.completions.create({ model: 'qwen2.5:0.5b', messages, stream: true });
    const finishes: Array<string | null | undefined> = [];
    let count = 0;
    for await (const chunk of stream) {
      count++;
      finishes.push(chunk.choices[0]?.finish_reason);
    }
    expect(count).toBe(3);
    expect(finishes.every((f) => f === null)).toBe(true);
  });
});
