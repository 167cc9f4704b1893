import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { cacheInfo } from '../src/index.js';
import { MODEL, setup, sleep } from './helpers.js';

describe('generate through the cache', () => {
  it('answers a miss from the model and the repeat from the cache', async () => {
    const { server, client } = await setup();
    const first = await client.generate({ model: MODEL, prompt: 'Why is the sky blue?' });
    const second = await client.generate({ model: MODEL, prompt: 'Why is the sky blue?' });
    expect(server.modelCalls()).toBe(1);
    expect(first.response).toBe(fakeAnswer({ model: MODEL, prompt: 'Why is the sky blue?' }).text);
    expect(second.response).toBe(first.response);
    expect(second.done).toBe(true);
    expect(second.eval_count).toBe(first.eval_count);
    expect(cacheInfo(first)?.status).toBe('miss');
    expect(cacheInfo(second)).toMatchObject({ status: 'hit', key: cacheInfo(first)?.key });
    expect(cacheInfo(second)?.ageMs).toBeGreaterThanOrEqual(0);
    expect(cacheInfo(second)?.savedDurationNs).toBe(first.total_duration);
  });

  it('hands out deep copies: changing a hit, nested fields included, never changes the next hit', async () => {
    const { client } = await setup();
    const request = { model: MODEL, messages: [{ role: 'user', content: 'deep copies' }] };
    const first = await client.chat(request);
    const hit = await client.chat(request);
    hit.message.content = 'changed by the caller';
    const generated = await client.generate({ model: MODEL, prompt: 'context' });
    const generatedHit = await client.generate({ model: MODEL, prompt: 'context' });
    generatedHit.context.push(-1);
    expect((await client.chat(request)).message.content).toBe(first.message.content);
    expect((await client.generate({ model: MODEL, prompt: 'context' })).context).toEqual(generated.context);
  });

  it('keeps the cache status out of JSON and deep equality', async () => {
    const { client } = await setup();
    const first = await client.generate({ model: MODEL, prompt: 'status' });
    const second = await client.generate({ model: MODEL, prompt: 'status' });
    expect(Object.keys(second)).not.toContain('cacheInfo');
    expect(JSON.parse(JSON.stringify(second))).toEqual(JSON.parse(JSON.stringify(second)));
    const { created_at: _a, ...a } = first;
    const { created_at: _b, ...b } = second;
    expect(b).toEqual(a);
  });

  it('misses when an option that changes the answer changes', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'hi', options: { temperature: 0 } });
    await client.generate({ model: MODEL, prompt: 'hi', options: { temperature: 0.5 } });
    await client.generate({ model: MODEL, prompt: 'hi', options: { temperature: 0 }, keep_alive: '10m' });
    await client.generate({ model: MODEL, prompt: 'hi', system: 'be brief', options: { temperature: 0 } });
    expect(server.modelCalls()).toBe(3);
  });

  it('shares one entry between the simple form and the Ollama form', async () => {
    const { server, client } = await setup();
    const simple = await client.generate({ model: MODEL, prompt: 'p', temperature: 0.2, max_tokens: 5, system: 's', json_mode: true });
    const native = await client.generate({ model: MODEL, prompt: 'p', system: 's', format: 'json', options: { temperature: 0.2, num_predict: 5 } });
    expect(server.modelCalls()).toBe(1);
    expect(cacheInfo(native)?.status).toBe('hit');
    expect(native.response).toBe(simple.response);
    // What reached Ollama is the translated request, without the simple-form or cache fields.
    expect(server.requests[0]?.body).toEqual({
      model: MODEL,
      prompt: 'p',
      system: 's',
      format: 'json',
      options: { temperature: 0.2, num_predict: 5 },
      stream: false,
    });
  });

  it('forceRefresh reaches the model and replaces the entry', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'refresh me' });
    const refreshed = await client.generate({ model: MODEL, prompt: 'refresh me', forceRefresh: true });
    expect(server.modelCalls()).toBe(2);
    expect(cacheInfo(refreshed)?.status).toBe('refresh');
    const after = await client.generate({ model: MODEL, prompt: 'refresh me' });
    expect(server.modelCalls()).toBe(2);
    expect(after.total_duration).toBe(refreshed.total_duration);
    for (const { body } of server.requests) expect(body).not.toHaveProperty('forceRefresh');
  });

  it('expires an entry after its per-call cacheTtl', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'short-lived', cacheTtl: 0.3 });
    await client.generate({ model: MODEL, prompt: 'short-lived' });
    expect(server.modelCalls()).toBe(1);
    await sleep(450);
    const later = await client.generate({ model: MODEL, prompt: 'short-lived' });
    expect(server.modelCalls()).toBe(2);
    expect(cacheInfo(later)?.status).toBe('miss');
    for (const { body } of server.requests) expect(body).not.toHaveProperty('cacheTtl');
  });

  it('noStore answers from the model without writing the entry', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'private', noStore: true });
    await client.generate({ model: MODEL, prompt: 'private' });
    expect(server.modelCalls()).toBe(2);
    const third = await client.generate({ model: MODEL, prompt: 'private', noStore: true });
    expect(cacheInfo(third)?.status).toBe('hit');
    expect(server.modelCalls()).toBe(2);
    for (const { body } of server.requests) expect(body).not.toHaveProperty('noStore');
  });

  it('never mutates the caller request and hands out fresh objects', async () => {
    const { client } = await setup();
    const request = Object.freeze({ model: MODEL, prompt: 'frozen', options: Object.freeze({ temperature: 0 }) });
    const first = await client.generate(request);
    first.response = 'changed by the caller';
    const second = await client.generate(request);
    expect(second.response).not.toBe('changed by the caller');
    second.response = 'again';
    const third = await client.generate(request);
    expect(Object.isFrozen(third)).toBe(false);
    expect(third.response).toBe(fakeAnswer({ model: MODEL, prompt: 'frozen', options: { temperature: 0 } }).text);
    expect(request).toEqual({ model: MODEL, prompt: 'frozen', options: { temperature: 0 } });
    expect(request).not.toHaveProperty('stream');
  });

  it('echoes the model name as each caller spelled it; name and name:latest share an entry', async () => {
    const { server, client } = await setup();
    const a = await client.generate({ model: 'llama3.2', prompt: 'names' });
    const b = await client.generate({ model: 'llama3.2:latest', prompt: 'names' });
    expect(server.modelCalls()).toBe(1);
    expect(a.model).toBe('llama3.2');
    expect(b.model).toBe('llama3.2:latest');
  });

  it('caches chat answers, with every message field in the key', async () => {
    const { server, client } = await setup();
    const messages = [{ role: 'user', content: 'hello there' }];
    const first = await client.chat({ model: MODEL, messages });
    const second = await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] });
    await client.chat({ model: MODEL, messages: [{ role: 'user', content: 'hello where' }] });
    expect(server.modelCalls()).toBe(2);
    expect(second.message).toEqual(first.message);
    expect(cacheInfo(second)?.status).toBe('hit');
  });
});
