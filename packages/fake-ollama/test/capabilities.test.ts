import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesFor, type FakeOllamaServer, fakeAnswer, startFakeOllama } from '../src/index.js';
import { ndjson, post } from './helpers.js';

// H4, M7: per-model capabilities, reported by /api/show and /api/tags and enforced like Ollama.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({
    answerTokens: 4,
    models: [
      ...['qwen2.5:0.5b', 'llama3.2:latest', 'nomic-embed-text:latest', 'qwen3:0.6b', 'llava:7b', 'qwen2.5-coder:0.5b'],
      { name: 'custom:1b', capabilities: ['completion', 'thinking'] },
    ],
  });
});
afterAll(() => server.close());

async function err(path: string, body: unknown): Promise<{ status: number; error: string }> {
  const res = await post(server.url, path, body);
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

const user = [{ role: 'user', content: 'hi' }];
const weatherTool = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('capabilities', () => {
  it('the default models have one of each kind, with the capabilities real Ollama reports', async () => {
    // M7: server/images.go Capabilities(); model_list_cache.go:839-862 adds them to /api/tags.
    const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Array<{ name: string; capabilities: string[] }> };
    const byName = Object.fromEntries(tags.models.map((m) => [m.name, m.capabilities]));
    expect(byName).toMatchObject({
      'qwen2.5:0.5b': ['completion', 'tools'],
      'llama3.2:latest': ['completion', 'tools'],
      'nomic-embed-text:latest': ['embedding'],
      'qwen3:0.6b': ['completion', 'tools', 'thinking'],
      'llava:7b': ['completion', 'vision'],
      'qwen2.5-coder:0.5b': ['completion', 'tools', 'insert'],
      'custom:1b': ['completion', 'thinking'],
    });
    for (const [name, caps] of Object.entries(byName)) {
      const show = (await (await post(server.url, '/api/show', { model: name })).json()) as { capabilities: string[] };
      expect(show.capabilities).toEqual(caps);
    }
    expect(capabilitiesFor('deepseek-r1:8b')).toContain('thinking');
  });

  it("refuses think on a model without thinking, with Ollama's 400", async () => {
    // routes.go:458-462 (generate) and 2622-2629 (chat)
    for (const think of [true, 'high']) {
      expect(await err('/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', think })).toEqual({
        status: 400,
        error: '"qwen2.5:0.5b" does not support thinking',
      });
      expect(await err('/api/chat', { model: 'llama3.2', messages: user, think })).toEqual({ status: 400, error: '"llama3.2" does not support thinking' });
    }
    expect((await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', think: false, stream: false })).status).toBe(200);
  });

  it('accepts only the think values Ollama decodes', async () => {
    // types.go:1202-1220 (ThinkValue.UnmarshalJSON)
    expect(await err('/api/chat', { model: 'qwen3:0.6b', messages: user, think: 'none' })).toEqual({
      status: 400,
      error: 'invalid think value: "none" (must be "high", "medium", "low", "max", true, or false)',
    });
    expect(await err('/api/generate', { model: 'qwen3:0.6b', prompt: 'x', think: 1 })).toEqual({
      status: 400,
      error: 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)',
    });
  });

  it('thinks by default on a thinking model, as if think were true', async () => {
    // routes.go:453-457: req.Think = true when the model can think and the request says nothing.
    const lines = await ndjson(await post(server.url, '/api/chat', { model: 'qwen3:0.6b', messages: user }));
    expect(lines.some((l) => typeof (l.message as { thinking?: string }).thinking === 'string')).toBe(true);
    const whole = (await (await post(server.url, '/api/generate', { model: 'qwen3:0.6b', prompt: 'p', stream: false })).json()) as Record<string, string>;
    const expected = fakeAnswer({ model: 'qwen3:0.6b', prompt: 'p', think: true }, { answerTokens: 4 });
    expect(whole.thinking).toBe(expected.thinkingText);
    expect(whole.response).toBe(expected.text);
    const off = (await (await post(server.url, '/api/generate', { model: 'qwen3:0.6b', prompt: 'p', think: false, stream: false })).json()) as Record<
      string,
      unknown
    >;
    expect(off).not.toHaveProperty('thinking');
  });

  it('refuses tools, suffix and chat/generate where the model lacks them', async () => {
    // routes.go:211-213 (scheduleRunner: "<full name> does not support <cap>"), 466-469 and 2634-2637
    expect(await err('/api/chat', { model: 'llava:7b', messages: user, tools: weatherTool })).toEqual({
      status: 400,
      error: 'registry.ollama.ai/library/llava:7b does not support tools',
    });
    // routes_generate_test.go:1596-1609
    expect(await err('/api/generate', { model: 'qwen2.5:0.5b', prompt: 'def f(', suffix: 'return 1' })).toEqual({
      status: 400,
      error: 'registry.ollama.ai/library/qwen2.5:0.5b does not support insert',
    });
    expect((await post(server.url, '/api/generate', { model: 'qwen2.5-coder:0.5b', prompt: 'def f(', suffix: 'return 1', stream: false })).status).toBe(200);
    expect(await err('/api/chat', { model: 'nomic-embed-text', messages: user })).toEqual({ status: 400, error: '"nomic-embed-text" does not support chat' });
  });

  it('refuses images on a model without vision, and answers them on a vision model', async () => {
    const image = Buffer.from('fake image bytes').toString('base64');
    expect((await err('/api/generate', { model: 'qwen2.5:0.5b', prompt: 'what is this', images: [image] })).status).toBe(400);
    const res = await post(server.url, '/api/chat', {
      model: 'llava:7b',
      messages: [{ role: 'user', content: 'what is this', images: [image] }],
      stream: false,
    });
    expect(res.status).toBe(200);
  });

  it('unloads an embedding model through generate before the capability check (L8)', async () => {
    // routes.go:404-415: the unload reply comes before scheduleRunner's checks.
    const res = await post(server.url, '/api/generate', { model: 'nomic-embed-text', keep_alive: 0 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ done: true, done_reason: 'unload' });
  });
});
