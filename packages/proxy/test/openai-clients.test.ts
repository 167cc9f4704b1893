import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOllama } from '@langchain/ollama';
import { ChatOpenAI } from '@langchain/openai';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { useStack } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend({ maxSize: 10_000 }), {}) });
beforeEach(() => stack.fake.resetCounts());
const openai = () => new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: 'ollama', maxRetries: 0 });

describe('the official openai SDK pointed at the proxy', () => {
  it('chat.completions.create: cold then warm, the same completion, X-Cache MISS then HIT, a fresh id', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'Why is the sky blue?' }] };
    const cold = await openai().chat.completions.create(request).withResponse();
    const warm = await openai().chat.completions.create(request).withResponse();
    expect(cold.response.headers.get('x-cache')).toBe('MISS');
    expect(warm.response.headers.get('x-cache')).toBe('HIT');
    expect(warm.data.choices).toEqual(cold.data.choices);
    expect(warm.data.usage).toEqual(cold.data.usage);
    expect(warm.data.object).toBe('chat.completion');
    expect(warm.data.id).toMatch(/^chatcmpl-\d+$/);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('streaming: a streamed miss, then a streamed hit and a non-streamed hit from the same entry', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'stream it' }] };
    const read = async () => {
      const { data, response } = await openai()
        .chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      let text = '';
      let usage: unknown;
      let finish: string | null | undefined;
      for await (const chunk of data) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, finish, cache: response.headers.get('x-cache') };
    };
    const cold = await read();
    const warm = await read();
    expect(cold.cache).toBe('MISS');
    expect(warm).toEqual({ ...cold, cache: 'HIT' });
    expect(cold.finish).toBe('stop');
    expect(cold.usage).toMatchObject({ completion_tokens: expect.any(Number) });
    const whole = await openai().chat.completions.create(request).withResponse();
    expect(whole.response.headers.get('x-cache')).toBe('HIT');
    expect(whole.data.choices[0]?.message.content).toBe(cold.text);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('tools: the tool call is cached and replayed, streaming and not', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ];
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }], tools };
    const cold = await openai().chat.completions.create(request);
    const warm = await openai().chat.completions.create(request).withResponse();
    expect(warm.response.headers.get('x-cache')).toBe('HIT');
    expect(cold.choices[0]?.finish_reason).toBe('tool_calls');
    expect(warm.data.choices[0]?.message.tool_calls).toEqual(cold.choices[0]?.message.tool_calls);
    const streamed = await openai().chat.completions.create({ ...request, stream: true });
    const calls: unknown[] = [];
    for await (const chunk of streamed) calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    expect(calls).toEqual(cold.choices[0]?.message.tool_calls?.map((call, index) => ({ ...call, index })));
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('response_format json_schema: cached, and a schema in another property order is another entry', async () => {
    const schema = (a: string, b: string) => ({
      type: 'json_schema' as const,
      json_schema: { name: 'place', schema: { type: 'object', properties: { [a]: { type: 'string' }, [b]: { type: 'string' } } } },
    });
    const base = { model: MODEL, messages: [{ role: 'user' as const, content: 'Name a city and its country.' }] };
    const first = await openai().chat.completions.create({ ...base, response_format: schema('city', 'country') });
    const again = await openai()
      .chat.completions.create({ ...base, response_format: schema('city', 'country') })
      .withResponse();
    expect(again.response.headers.get('x-cache')).toBe('HIT');
    expect(again.data.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    const other = await openai()
      .chat.completions.create({ ...base, response_format: schema('country', 'city') })
      .withResponse();
    expect(other.response.headers.get('x-cache')).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('completions.create, streaming and not, from one entry', async () => {
    const request = { model: MODEL, prompt: 'Once upon a time' };
    const cold = await openai().completions.create(request);
    const warm = await openai().completions.create(request).withResponse();
    expect(warm.response.headers.get('x-cache')).toBe('HIT');
    expect(warm.data.choices[0]?.text).toBe(cold.choices[0]?.text);
    let text = '';
    for await (const chunk of await openai().completions.create({ ...request, stream: true })) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(cold.choices[0]?.text);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('embeddings.create with a string and with an array', async () => {
    for (const input of ['hello', ['hello', 'world']]) {
      const cold = await openai().embeddings.create({ model: 'nomic-embed-text', input });
      const warm = await openai().embeddings.create({ model: 'nomic-embed-text', input }).withResponse();
      expect(warm.response.headers.get('x-cache')).toBe('HIT');
      expect(warm.data.data).toEqual(cold.data);
    }
    expect(stack.fake.modelCalls()).toBe(2);
  });
});

describe('frameworks pointed at the proxy', () => {
  it("LangChain's ChatOpenAI: the same answer cold and warm, one model call", async () => {
    const chat = new ChatOpenAI({ model: MODEL, apiKey: 'ollama', configuration: { baseURL: `${stack.proxy.url}/v1` }, maxRetries: 0 });
    const cold = await chat.invoke('Tell me about caches.');
    const warm = await chat.invoke('Tell me about caches.');
    expect(warm.content).toBe(cold.content);
    expect(String(cold.content).length).toBeGreaterThan(0);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it("the Vercel AI SDK's OpenAI-compatible provider: generateText and streamText", async () => {
    const ollama = createOpenAICompatible({ name: 'ollama', baseURL: `${stack.proxy.url}/v1`, apiKey: 'ollama' });
    const cold = await generateText({ model: ollama(MODEL), prompt: 'A haiku about proxies.' });
    const warm = await generateText({ model: ollama(MODEL), prompt: 'A haiku about proxies.' });
    expect(warm.text).toBe(cold.text);
    expect(cold.text.length).toBeGreaterThan(0);
    const streamed = streamText({ model: ollama(MODEL), prompt: 'A haiku about streams.' });
    let text = '';
    for await (const part of streamed.textStream) text += part;
    const again = streamText({ model: ollama(MODEL), prompt: 'A haiku about streams.' });
    let textAgain = '';
    for await (const part of again.textStream) textAgain += part;
    expect(textAgain).toBe(text);
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it("LangChain's ChatOllama (native API): the same answer cold and warm, streaming and not", async () => {
    const chat = new ChatOllama({ model: MODEL, baseUrl: stack.proxy.url });
    const cold = await chat.invoke('What is a cache?');
    const warm = await chat.invoke('What is a cache?');
    expect(warm.content).toBe(cold.content);
    let streamed = '';
    for await (const chunk of await chat.stream('What is a cache?')) streamed += String(chunk.content);
    expect(streamed).toBe(cold.content);
    expect(stack.fake.modelCalls()).toBe(1);
  });
});
