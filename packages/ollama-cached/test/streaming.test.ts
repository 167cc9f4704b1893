import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { cacheInfo } from '../src/index.js';
import { collect, collectError, MODEL, setup, THINKING_MODEL } from './helpers.js';

const joined = (chunks: Array<{ response?: string }>): string => chunks.map((c) => c.response ?? '').join('');

describe('streaming', () => {
  it('a streaming miss records the stream; streaming and non-streaming hits come from that one entry', async () => {
    const { server, client } = await setup();
    const request = { model: MODEL, prompt: 'stream me' };
    const live = await client.generate({ ...request, stream: true });
    expect(cacheInfo(live)?.status).toBe('miss');
    const liveChunks = await collect(live);
    expect(liveChunks.length).toBeGreaterThan(2);
    expect(joined(liveChunks)).toBe(fakeAnswer(request).text);

    const replay = await client.generate({ ...request, stream: true });
    expect(cacheInfo(replay)?.status).toBe('hit');
    const replayed = await collect(replay);
    const strip = (c: object) => {
      const { created_at: _ignored, ...rest } = c as { created_at: unknown };
      return rest;
    };
    expect(replayed.map(strip)).toEqual(liveChunks.map(strip));

    const whole = await client.generate(request);
    expect(cacheInfo(whole)?.status).toBe('hit');
    expect(whole.response).toBe(fakeAnswer(request).text);
    const last = liveChunks[liveChunks.length - 1];
    expect(whole).toMatchObject({ done: true, done_reason: last?.done_reason, eval_count: last?.eval_count, total_duration: last?.total_duration });
    expect(server.modelCalls()).toBe(1);
  });

  it('replays a non-streaming entry as text-only chunks and a final done chunk with the metrics and no text', async () => {
    const { server, client } = await setup();
    const request = { model: MODEL, prompt: 'split me', options: { num_predict: 11 } };
    const whole = await client.generate(request);
    const before = Date.now();
    const chunks = await collect(await client.generate({ ...request, stream: true }));
    expect(server.modelCalls()).toBe(1);
    const final = chunks[chunks.length - 1];
    const text = chunks.slice(0, -1);
    expect(text.length).toBeGreaterThan(1);
    for (const chunk of text) {
      expect(chunk.done).toBe(false);
      expect(chunk.response).not.toBe('');
      expect(chunk).not.toHaveProperty('total_duration');
      expect(chunk.model).toBe(MODEL);
    }
    expect(joined(text)).toBe(whole.response);
    expect(final).toMatchObject({
      model: MODEL,
      response: '',
      done: true,
      done_reason: whole.done_reason,
      total_duration: whole.total_duration,
      eval_count: whole.eval_count,
      prompt_eval_count: whole.prompt_eval_count,
      context: whole.context,
    });
    // created_at on replay is the current time
    for (const chunk of chunks) expect(Date.parse(String(chunk.created_at))).toBeGreaterThanOrEqual(before - 5);
  });

  it('replays a chat entry with message chunks', async () => {
    const { server, client } = await setup();
    const request = { model: MODEL, messages: [{ role: 'user', content: 'chat split' }] };
    const whole = await client.chat(request);
    const chunks = await collect(await client.chat({ ...request, stream: true }));
    expect(server.modelCalls()).toBe(1);
    const final = chunks[chunks.length - 1];
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.message.content)
        .join(''),
    ).toBe(whole.message.content);
    expect(final).toMatchObject({ done: true, message: { role: 'assistant', content: '' }, eval_count: whole.eval_count });
    // and a streamed chat entry serves a non-streaming hit
    const streamed = await collect(await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'chat stream' }], stream: true }));
    const hit = await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'chat stream' }] });
    expect(server.modelCalls()).toBe(2);
    expect(hit.message.content).toBe(streamed.map((c) => c.message.content).join(''));
    expect(hit.message.role).toBe('assistant');
  });

  it('joins thinking into the stored answer and replays it before the text', async () => {
    const { server, client } = await setup();
    // think needs a thinking model: the fake, like Ollama, answers 400 to think on qwen2.5.
    const request = { model: THINKING_MODEL, prompt: 'think first', think: true };
    const live = await collect(await client.generate({ ...request, stream: true }));
    const whole = await client.generate(request);
    expect(server.modelCalls()).toBe(1);
    expect(whole.thinking).toBe(live.map((c) => c.thinking ?? '').join(''));
    expect(whole.thinking).not.toBe('');
    const fromWhole = await client.generate({ model: THINKING_MODEL, prompt: 'think again', think: true });
    const replay = await collect(await client.generate({ model: THINKING_MODEL, prompt: 'think again', think: true, stream: true }));
    expect(replay.map((c) => c.thinking ?? '').join('')).toBe(fromWhole.thinking);
    const firstText = replay.findIndex((c) => (c.response ?? '') !== '');
    const lastThinking = replay.map((c) => Boolean(c.thinking)).lastIndexOf(true);
    expect(lastThinking).toBeLessThan(firstText);
  });

  it('does not store a stream the caller aborts', async () => {
    const { server, client } = await setup({}, { tokensPerSecond: 50 });
    const stream = await client.generate({ model: MODEL, prompt: 'abort me', stream: true });
    const error = await (async () => {
      try {
        for await (const _ of stream) stream.abort();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect((error as Error | undefined)?.name).toBe('AbortError');
    const again = await client.generate({ model: MODEL, prompt: 'abort me' });
    expect(cacheInfo(again)?.status).toBe('miss');
    expect(server.modelCalls()).toBe(2);
  });

  it('does not store a stream the caller leaves early', async () => {
    const { server, client } = await setup({}, { tokensPerSecond: 50 });
    const stream = await client.generate({ model: MODEL, prompt: 'leave early', stream: true });
    for await (const _ of stream) break;
    const again = await client.generate({ model: MODEL, prompt: 'leave early', stream: true });
    expect(cacheInfo(again)?.status).toBe('miss');
    await collect(again);
    expect(server.modelCalls()).toBe(2);
    expect(cacheInfo(await client.generate({ model: MODEL, prompt: 'leave early' }))?.status).toBe('hit');
  });

  it('stores a stream nobody reads once it completes', async () => {
    const { server, client } = await setup();
    const unread = await client.generate({ model: MODEL, prompt: 'unread', stream: true });
    expect(cacheInfo(unread)?.status).toBe('miss');
    const whole = await client.generate({ model: MODEL, prompt: 'unread' });
    expect(['hit', 'coalesced']).toContain(cacheInfo(whole)?.status);
    expect(server.modelCalls()).toBe(1);
  });

  it('abort() on a replayed stream stops it with an AbortError', async () => {
    const { client } = await setup();
    await client.generate({ model: MODEL, prompt: 'replay abort' });
    const replay = await client.generate({ model: MODEL, prompt: 'replay abort', stream: true });
    replay.abort();
    const error = await collectError(replay);
    expect((error as Error).name).toBe('AbortError');
  });

  it('client.abort() stops live streams', async () => {
    const { client } = await setup({}, { tokensPerSecond: 100 });
    const stream = await client.generate({ model: MODEL, prompt: 'abort all', stream: true });
    client.abort();
    const error = await collectError(stream);
    expect((error as Error).name).toBe('AbortError');
  });

  it('keeps tool calls through record, aggregate and replay', async () => {
    const { server, client } = await setup();
    const tools = [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ];
    const ask = (content: string) => ({ model: MODEL, messages: [{ role: 'user', content }], tools });
    const live = await collect(await client.chat({ ...ask('weather in Paris?'), stream: true }));
    const liveCalls = live.flatMap((c) => c.message.tool_calls ?? []);
    expect(liveCalls).toHaveLength(1);
    const whole = await client.chat(ask('weather in Paris?'));
    expect(whole.message.tool_calls).toEqual(liveCalls);

    const first = await client.chat(ask('weather in Rome?'));
    const replay = await collect(await client.chat({ ...ask('weather in Rome?'), stream: true }));
    expect(replay.flatMap((c) => c.message.tool_calls ?? [])).toEqual(first.message.tool_calls);
    expect(replay.at(-1)?.message.tool_calls).toBeUndefined();
    expect(server.modelCalls()).toBe(2);
  });
});
