import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeAnswer, fakeEmbedding, fromChatCompletionRequest, fromCompletionRequest, startFakeOllama } from '../src/index.js';
import { post, raw, sseData } from './helpers.js';

// H3 and reference §2: the /v1 layer over raw HTTP, for exact bytes and headers
// (middleware/openai.go and openai/openai.go at fb30760).
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ answerTokens: 3 });
});
beforeEach(() => server.clearFaults());
afterAll(() => server.close());

const json = (path: string, body: unknown) =>
  raw(server.url, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const chat = { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'Why is the sky blue?' }] };
const frames = (body: string) => sseData(body).map((d) => (d === '[DONE]' ? d : (JSON.parse(d) as Record<string, unknown>)));

describe('/v1/chat/completions', () => {
  it('answers a non-streamed completion shaped like openai.go:269-299, with the native text of the translated request', async () => {
    const res = await json('/v1/chat/completions', chat);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.endsWith('}\n')).toBe(true);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'object', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
    expect(body.id).toMatch(/^chatcmpl-\d{1,3}$/);
    expect(body).toMatchObject({ object: 'chat.completion', model: 'qwen2.5:0.5b', system_fingerprint: 'fp_ollama' });
    expect(Math.abs((body.created as number) - Date.now() / 1000)).toBeLessThan(60);
    const expected = fakeAnswer(fromChatCompletionRequest(chat).native, { answerTokens: 3 }).text;
    expect(body.choices).toEqual([{ index: 0, message: { role: 'assistant', content: expected }, finish_reason: 'stop' }]);
    const native = (await (await post(server.url, '/api/chat', fromChatCompletionRequest(chat).native)).json()) as { message: { content: string } };
    expect(native.message.content).toBe(expected);
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('defaults temperature and top_p to 1.0 and maps the OpenAI fields (openai.go:549-722)', () => {
    const t = fromChatCompletionRequest({
      ...chat,
      max_tokens: 5,
      stop: 'END',
      seed: 7,
      response_format: { type: 'json_object' },
      reasoning_effort: 'minimal',
      n: 3,
      user: 'u',
    });
    expect(t.native).toMatchObject({
      options: { temperature: 1, top_p: 1, num_predict: 5, stop: ['END'], seed: 7 },
      format: 'json',
      think: 'low',
      stream: false,
    });
    expect(t.native).not.toHaveProperty('n');
  });

  it('streams SSE frames in the >= v0.32.6 format: role first, a finish chunk, usage, [DONE]', async () => {
    const res = await json('/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const f = frames(res.body);
    // mw/openai.go:80-174; openai_test.go "content chunks + finish + usage + [DONE]".
    expect(f).toHaveLength(3 + 1 + 1 + 1);
    const chunks = f.slice(0, 3) as Array<{ id: string; created: number; choices: Array<{ delta: Record<string, unknown>; finish_reason: null }> }>;
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.slice(1).every((c) => !('role' in (c.choices[0]?.delta ?? {})))).toBe(true);
    expect(new Set(f.slice(0, 5).map((c) => (c as { id: string }).id)).size).toBe(1);
    expect(new Set(f.slice(0, 5).map((c) => (c as { created: number }).created)).size).toBe(1);
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe(fakeAnswer(fromChatCompletionRequest(chat).native, { answerTokens: 3 }).text);
    expect(f[3]).toMatchObject({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    expect(f[3]).not.toHaveProperty('usage');
    expect(f[4]).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } });
    expect(f[5]).toBe('[DONE]');
  });

  it('streams a tool call as one frame with arguments as a JSON string, then finish_reason tool_calls', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const f = frames((await json('/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: 'weather in Paris?' }], tools, stream: true })).body);
    expect(f).toHaveLength(3);
    const delta = (f[0] as { choices: Array<{ delta: Record<string, unknown> }> }).choices[0]?.delta;
    expect(delta).toMatchObject({
      role: 'assistant',
      content: '',
      tool_calls: [{ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(((delta?.tool_calls ?? []) as Array<{ id: string }>)[0]?.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(f[1]).toMatchObject({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] });
    const whole = JSON.parse((await json('/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: 'weather in Paris?' }], tools })).body) as {
      choices: Array<{ message: Record<string, unknown>; finish_reason: string }>;
    };
    expect(whole.choices[0]?.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]?.message.content).toBe('');
  });

  it('reasoning: thinking models answer message.reasoning, streamed as delta.reasoning', async () => {
    const body = JSON.parse((await json('/v1/chat/completions', { ...chat, model: 'qwen3:0.6b' })).body) as {
      choices: Array<{ message: Record<string, unknown> }>;
    };
    expect(typeof body.choices[0]?.message.reasoning).toBe('string');
    const f = frames((await json('/v1/chat/completions', { ...chat, model: 'qwen3:0.6b', stream: true })).body);
    expect((f[0] as { choices: Array<{ delta: Record<string, unknown> }> }).choices[0]?.delta).toMatchObject({ role: 'assistant', content: '' });
    expect(typeof (f[0] as { choices: Array<{ delta: { reasoning?: string } }> }).choices[0]?.delta.reasoning).toBe('string');
    const none = JSON.parse((await json('/v1/chat/completions', { ...chat, model: 'qwen3:0.6b', reasoning_effort: 'none' })).body) as {
      choices: Array<{ message: Record<string, unknown> }>;
    };
    expect(none.choices[0]?.message).not.toHaveProperty('reasoning');
  });

  it('reports finish_reason length when max_tokens cut the answer', async () => {
    const body = JSON.parse((await json('/v1/chat/completions', { ...chat, max_tokens: 2 })).body) as { choices: Array<{ finish_reason: string }> };
    expect(body.choices[0]?.finish_reason).toBe('length');
  });

  it('returns translator errors with gin framing and native errors with json.Encoder framing (§2.1)', async () => {
    const empty = await json('/v1/chat/completions', { model: 'qwen2.5:0.5b', messages: [] });
    expect(empty.status).toBe(400);
    expect(empty.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(empty.body).toBe('{"error":{"message":"[] is too short - \'messages\'","type":"invalid_request_error","param":null,"code":null}}');
    const eof = await json('/v1/chat/completions', '');
    expect(JSON.parse(eof.body)).toMatchObject({ error: { message: 'EOF', type: 'invalid_request_error' } });
    const missing = await json('/v1/chat/completions', { ...chat, model: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/json');
    expect(missing.body).toBe('{"error":{"message":"model \'nope\' not found","type":"not_found_error","param":null,"code":null}}\n');
    expect(JSON.parse((await json('/v1/chat/completions', { messages: chat.messages })).body)).toMatchObject({ error: { message: 'model is required' } });
    expect(JSON.parse((await json('/v1/chat/completions', { ...chat, model: 'nomic-embed-text' })).body)).toMatchObject({
      error: { message: '"nomic-embed-text" does not support chat', type: 'invalid_request_error' },
    });
    expect(JSON.parse((await json('/v1/chat/completions', { ...chat, reasoning_effort: 'high' })).body)).toMatchObject({
      error: { message: '"qwen2.5:0.5b" does not support thinking' },
    });
    expect(JSON.parse((await json('/v1/chat/completions', { ...chat, reasoning_effort: 'extreme' })).body).error.message).toMatch(
      /^invalid reasoning value: "extreme"/,
    );
    const url = await json('/v1/chat/completions', {
      ...chat,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    });
    expect(JSON.parse(url.body).error.message).toBe('image URLs are not currently supported, please use base64 encoded data instead');
    expect(JSON.parse((await json('/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: null }] })).body).error.message).toBe(
      'invalid message content type: <nil>',
    );
    const wrongMethod = await raw(server.url, '/v1/chat/completions');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body).toBe('405 method not allowed');
  });

  it('shares the faults: status → OpenAI error, midstream → one empty frame and no [DONE], truncate → cut without [DONE]', async () => {
    server.failNext({ kind: 'status', status: 503 });
    const busy = await json('/v1/chat/completions', chat);
    expect(busy.status).toBe(503);
    expect(JSON.parse(busy.body)).toEqual({
      error: { message: 'server busy, please try again.  maximum pending requests exceeded', type: 'api_error', param: null, code: null },
    });

    server.failNext({ kind: 'midstream', afterChunks: 2 });
    const mid = frames((await json('/v1/chat/completions', { ...chat, stream: true })).body);
    expect(mid).toHaveLength(3);
    expect(mid).not.toContain('[DONE]');
    const errFrame = mid[2] as Record<string, unknown>;
    expect(errFrame).toMatchObject({
      object: 'chat.completion.chunk',
      model: '',
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta: { content: '' }, finish_reason: null }],
    });
    expect(errFrame.created).toBe((mid[0] as { created: number }).created);

    server.failNext({ kind: 'truncate', afterChunks: 1 });
    const cut = frames((await json('/v1/chat/completions', { ...chat, stream: true })).body);
    expect(cut).toHaveLength(1);
    expect(cut).not.toContain('[DONE]');

    server.failNext({ kind: 'midstream' });
    const whole = await json('/v1/chat/completions', chat);
    expect(whole.status).toBe(500);
    expect(JSON.parse(whole.body).error.type).toBe('api_error');
    expect(server.modelCalls()).toBeGreaterThanOrEqual(4);
  });
});

describe('/v1/completions', () => {
  const req = { model: 'qwen2.5:0.5b', prompt: 'Say hi' };

  it('answers a text_completion with the native text of the translated request', async () => {
    const body = JSON.parse((await json('/v1/completions', req)).body) as Record<string, unknown>;
    expect(body.id).toMatch(/^cmpl-\d{1,3}$/);
    expect(Object.keys(body)).toEqual(['id', 'object', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
    const text = fakeAnswer(fromCompletionRequest(req).native, { answerTokens: 3 }).text;
    expect(body.choices).toEqual([{ text, index: 0, finish_reason: 'stop' }]);
    const native = (await (await post(server.url, '/api/generate', fromCompletionRequest(req).native)).json()) as { response: string };
    expect(native.response).toBe(text);
  });

  it('streams with choices before model, finish_reason on the last native chunk, zero usage on every chunk with include_usage', async () => {
    const res = await json('/v1/completions', { ...req, stream: true, stream_options: { include_usage: true } });
    const f = frames(res.body);
    expect(f).toHaveLength(3 + 1 + 1 + 1);
    expect(Object.keys(f[0] as object)).toEqual(['id', 'object', 'created', 'choices', 'model', 'system_fingerprint', 'usage']);
    for (const c of f.slice(0, 4)) expect((c as { usage: unknown }).usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect((f[3] as { choices: Array<{ text: string; finish_reason: string }> }).choices[0]).toEqual({ text: '', index: 0, finish_reason: 'stop' });
    expect(f[4]).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
    expect(f[5]).toBe('[DONE]');
  });

  it('answers an empty prompt with the load reply and refuses what Ollama refuses', async () => {
    const load = JSON.parse((await json('/v1/completions', { ...req, prompt: '' })).body) as { choices: unknown[]; usage: unknown };
    expect(load.choices).toEqual([{ text: '', index: 0, finish_reason: 'load' }]);
    expect(load.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    const noModel = await json('/v1/completions', { prompt: 'x' });
    expect(noModel.status).toBe(404);
    expect(JSON.parse(noModel.body).error).toMatchObject({ message: "model '' not found", type: 'not_found_error' });
    expect(JSON.parse((await json('/v1/completions', { ...req, prompt: ['a'] })).body).error.message).toBe(
      'json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string',
    );
    expect(JSON.parse((await json('/v1/completions', { ...req, stop: ['a', 1] })).body).error.message).toBe("invalid type for 'stop' field: float64");
    expect(fromCompletionRequest({ ...req, logprobs: 2, top_p: 0 }).native).toMatchObject({
      logprobs: true,
      top_logprobs: 2,
      options: { top_p: 1, frequency_penalty: 0, presence_penalty: 0 },
    });
  });
});

describe('/v1/embeddings and /v1/models', () => {
  it('answers an embedding list with float or base64 vectors', async () => {
    const body = JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text', input: ['a', 'b'] })).body) as {
      object: string;
      data: Array<{ object: string; embedding: number[]; index: number }>;
      model: string;
      usage: unknown;
    };
    expect(body.object).toBe('list');
    expect(body.model).toBe('nomic-embed-text');
    expect(body.data.map((d) => d.index)).toEqual([0, 1]);
    expect(body.data[0]?.embedding).toEqual(fakeEmbedding('nomic-embed-text', 'a'));
    expect(body.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    const b64 = JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text', input: 'a', encoding_format: 'BASE64', dimensions: 4 })).body) as {
      data: Array<{ embedding: string }>;
    };
    const bytes = Buffer.from(b64.data[0]?.embedding ?? '', 'base64');
    const floats = Array.from({ length: 4 }, (_, i) => bytes.readFloatLE(i * 4));
    fakeEmbedding('nomic-embed-text', 'a', 4).forEach((x, i) => {
      expect(floats[i]).toBeCloseTo(x, 6);
    });
  });

  it('refuses what the middleware refuses (mw/openai.go:395-444)', async () => {
    expect(JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text', input: [] })).body).error.message).toBe('invalid input');
    expect(JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text' })).body).error.message).toBe('invalid input');
    expect(JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text', input: 'x', encoding_format: 'int8' })).body).error.message).toBe(
      "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64'].",
    );
    const tokens = await json('/v1/embeddings', { model: 'nomic-embed-text', input: [[1, 2]] });
    expect(tokens.status).toBe(400);
    expect(JSON.parse(tokens.body).error.message).toBe('invalid input type');
    const empty = JSON.parse((await json('/v1/embeddings', { model: 'nomic-embed-text', input: '' })).body) as { data: unknown[] };
    expect(empty.data).toHaveLength(1);
  });

  it('lists models and retrieves one (openai.go:450-521)', async () => {
    const list = await raw(server.url, '/v1/models');
    expect(list.headers['content-type']).toBe('application/json');
    const body = JSON.parse(list.body) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe('list');
    expect(body.data[0]).toEqual({ id: 'qwen2.5:0.5b', object: 'model', created: 1735689600, owned_by: 'library' });
    const one = JSON.parse((await raw(server.url, '/v1/models/qwen2.5:0.5b')).body);
    expect(one).toEqual({ id: 'qwen2.5:0.5b', object: 'model', created: 1735689600, owned_by: 'library' });
    const missing = await raw(server.url, '/v1/models/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: { message: "model 'nope:latest' not found", type: 'not_found_error', param: null, code: null } });
    expect((await raw(server.url, '/v1/models/library/x')).body).toBe('404 page not found');
    const none = await startFakeOllama({ models: [] });
    try {
      expect(JSON.parse((await raw(none.url, '/v1/models')).body)).toEqual({ object: 'list', data: null });
    } finally {
      await none.close();
    }
  });

  it('counts /v1 model routes in modelCalls()', async () => {
    server.resetCounts();
    await json('/v1/chat/completions', chat);
    await json('/v1/completions', { model: 'qwen2.5:0.5b', prompt: 'x' });
    await json('/v1/embeddings', { model: 'nomic-embed-text', input: 'x' });
    await raw(server.url, '/v1/models');
    expect(server.modelCalls()).toBe(3);
    expect(server.counts['/v1/models']).toBe(1);
  });
});
