import { MemoryBackend } from '@tinyllm/cache-memory';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { Ollama } from 'ollama';
import { beforeEach, describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}) });
beforeEach(() => stack.fake.resetCounts());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(stack.proxy.url, path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
const ndjson = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const withoutTime = (chunk: Record<string, unknown>) => {
  const { created_at: _t, ...rest } = chunk;
  return rest;
};

describe('the native cached routes', () => {
  it('generate, stream:false: a miss from Ollama, then the same answer from the cache with its headers', async () => {
    const body = { model: MODEL, prompt: 'Why is the sky blue?', stream: false };
    const miss = await post('/api/generate', body);
    expect(miss.status).toBe(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.headers['x-tinyllm-key']).toMatch(/^[0-9a-f]{16}$/);
    expect(miss.headers['content-type']).toBe('application/json; charset=utf-8');
    const hit = await post('/api/generate', body);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-tinyllm-key']).toBe(miss.headers['x-tinyllm-key']);
    expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(0);
    expect(withoutTime(JSON.parse(hit.text))).toEqual(withoutTime(JSON.parse(miss.text)));
    expect(JSON.parse(hit.text).response).toBe(fakeAnswer(body).text);
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('a streaming miss arrives as NDJSON; a streaming hit replays the same chunks', async () => {
    const body = { model: MODEL, prompt: 'stream through the proxy' };
    const miss = await post('/api/generate', body);
    expect(miss.headers['content-type']).toBe('application/x-ndjson');
    expect(miss.headers['x-cache']).toBe('MISS');
    const live = ndjson(miss.text);
    expect(live.length).toBeGreaterThan(2);
    expect(live.at(-1)?.done).toBe(true);
    const hit = await post('/api/generate', body);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(ndjson(hit.text).map(withoutTime)).toEqual(live.map(withoutTime));
    expect(stack.fake.modelCalls()).toBe(1);
  });

  it('one entry serves streaming and non-streaming requests, both ways', async () => {
    const streamed = { model: MODEL, messages: [{ role: 'user', content: 'streamed first' }] };
    const live = ndjson((await post('/api/chat', streamed)).text);
    const whole = await post('/api/chat', { ...streamed, stream: false });
    expect(whole.headers['x-cache']).toBe('HIT');
    expect(JSON.parse(whole.text).message.content).toBe(live.map((c) => (c.message as { content: string }).content).join(''));

    const wholeFirst = { model: MODEL, messages: [{ role: 'user', content: 'whole first' }] };
    const answer = JSON.parse((await post('/api/chat', { ...wholeFirst, stream: false })).text);
    const replay = await post('/api/chat', wholeFirst);
    expect(replay.headers['x-cache']).toBe('HIT');
    const chunks = ndjson(replay.text);
    expect(chunks.map((c) => (c.message as { content: string }).content).join('')).toBe(answer.message.content);
    expect(chunks.at(-1)).toMatchObject({ done: true, eval_count: answer.eval_count });
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('embed and the legacy embeddings route are cached, each under keys of its own', async () => {
    const embed = { model: 'nomic-embed-text', input: ['a', 'b'] };
    const first = await post('/api/embed', embed);
    const second = await post('/api/embed', embed);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(JSON.parse(second.text).embeddings).toEqual(JSON.parse(first.text).embeddings);
    const legacy = { model: 'nomic-embed-text', prompt: 'a' };
    expect((await post('/api/embeddings', legacy)).headers['x-cache']).toBe('MISS');
    expect((await post('/api/embeddings', legacy)).headers['x-cache']).toBe('HIT');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('the official ollama client, pointed at the proxy: identical answers cold and warm, streaming and not', async () => {
    const client = new Ollama({ host: stack.proxy.url });
    const request = { model: MODEL, prompt: 'official client through the proxy' };
    const cold = await client.generate(request);
    const warm = await client.generate(request);
    expect(warm.response).toBe(cold.response);
    const text = async () => {
      let out = '';
      for await (const chunk of await client.generate({ ...request, stream: true })) out += chunk.response;
      return out;
    };
    expect(await text()).toBe(cold.response);
    const chat = { model: MODEL, messages: [{ role: 'user', content: 'hello proxy' }] };
    expect((await client.chat(chat)).message.content).toBe((await client.chat(chat)).message.content);
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('load and unload requests go to Ollama untouched and are never cached', async () => {
    const load = await post('/api/generate', { model: MODEL, prompt: '', stream: false });
    expect(load.headers['x-cache']).toBe('BYPASS');
    expect(JSON.parse(load.text).done_reason).toBe('load');
    await post('/api/generate', { model: MODEL, prompt: '', stream: false });
    expect(stack.fake.modelCalls()).toBe(2);
  });
});
