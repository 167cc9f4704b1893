import { request } from 'node:http';
import { startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, type CachedRouteRequest, DEFAULT_CONTROLS, type RunningProxy, startProxy } from '../src/index.js';
import { send, useStack } from './helpers.js';

describe('the hook for cached routes', () => {
  const seen: Array<
    Omit<
      CachedRouteRequest,
      'req' | 'res' | 'logger' | 'counters' | 'upstream' | 'setCacheResult' | 'setModel' | 'passThrough' | 'sendError' | 'writeAtTurnEnd' | 'principal'
    >
  > = [];
  let fail: 'throw' | 'reject-after-headers' | 'throw-at-turn-end' | undefined;
  const stack = useStack(
    {},
    {
      bodyLimitBytes: 1024,
      cachedRoutes: async (request) => {
        seen.push({ route: request.route, body: request.body, controls: request.controls, namespace: request.namespace, path: request.path });
        if (fail === 'throw') throw new Error('engine bug');
        if (fail === 'reject-after-headers') {
          request.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
          request.res.write('{"partial":true}\n');
          throw new Error('engine failed mid-answer');
        }
        if (fail === 'throw-at-turn-end') {
          request.writeAtTurnEnd(() => {
            throw new Error('writer bug');
          });
          return;
        }
        if (request.body.toString() === 'written in two parts') {
          request.setCacheResult('HIT');
          request.writeAtTurnEnd(() => request.res.writeHead(200, { 'Content-Type': 'text/plain' }).write('first, '));
          request.writeAtTurnEnd(() => request.res.end('then second'));
          return;
        }
        if (request.body.toString() === 'stored at turn end') {
          request.setCacheResult('HIT');
          let written = false;
          request.writeAtTurnEnd(() => {
            written = true;
            request.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Cache': 'HIT' });
            request.res.end('{"from":"the turn\'s end"}');
          });
          // Held back: nothing is written before the hook returns.
          if (written || request.res.headersSent) throw new Error('written before the turn ended');
          return;
        }
        if (request.body.toString() === 'stored') {
          request.setCacheResult('HIT', 'team-a:0123456789abcdef0123456789abcdef');
          request.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Cache': 'HIT' });
          request.res.end('{"from":"cache"}');
          return;
        }
        request.setCacheResult('MISS');
        await request.passThrough();
      },
    },
  );

  it('receives the route, the raw body bytes, the controls, the namespace and the path to forward', async () => {
    const body = Buffer.from('{"model":"qwen2.5:0.5b",\n  "prompt":"héllo"}');
    await send(stack.proxy.url, '/ns/team-a/api/generate?x=1', {
      method: 'POST',
      headers: { 'Cache-Control': 'no-store, max-age=60', 'X-TinyLLM-TTL': 'never', 'Content-Type': 'application/json' },
      body,
    });
    const got = seen.at(-1);
    expect(got?.route).toMatchObject({ id: 'generate', kind: 'cached', endpoint: 'generate', api: 'ollama' });
    expect(got?.body.equals(body)).toBe(true);
    expect(got?.controls).toEqual({ ...DEFAULT_CONTROLS, noStore: true, maxAgeSeconds: 60, ttl: null });
    expect(got?.namespace).toBe('team-a');
    expect(got?.path).toBe('/api/generate?x=1');
  });

  it.each([
    ['/api/chat', 'chat', 'ollama'],
    ['/api/embed', 'embed', 'ollama'],
    ['/api/embeddings', 'embeddings', 'ollama'],
    ['/v1/chat/completions', 'openai-chat', 'openai'],
    ['/v1/completions', 'openai-completions', 'openai'],
    ['/v1/embeddings', 'openai-embeddings', 'openai'],
  ])('POST %s reaches the hook as %s', async (path, endpoint, api) => {
    await send(stack.proxy.url, path, { method: 'POST', headers: { 'X-TinyLLM-Namespace': 'ns1' }, body: '{}' });
    expect(seen.at(-1)?.route).toMatchObject({ endpoint, api });
    expect(seen.at(-1)?.namespace).toBe('ns1');
  });

  it('an answer from the hook is counted under its cache status', async () => {
    const before = stack.proxy.counters.requestsOf('chat', 'hit');
    const reply = await send(stack.proxy.url, '/api/chat', { method: 'POST', body: 'stored' });
    expect(reply.text).toBe('{"from":"cache"}');
    expect(reply.headers['x-cache']).toBe('HIT');
    expect(stack.proxy.counters.requestsOf('chat', 'hit')).toBe(before + 1);
  });

  it('an answer the hook writes at the end of the turn arrives whole, and a throw in it is a 500', async () => {
    const before = stack.proxy.counters.requestsOf('generate', 'hit');
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(stack.proxy.url, '/api/generate', { method: 'POST', body: 'stored at turn end' })));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('{"from":"the turn\'s end"}');
    }
    expect(stack.proxy.counters.requestsOf('generate', 'hit')).toBe(before + 5);
    const twice = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: 'written in two parts' });
    expect(twice.text).toBe('first, then second');
    fail = 'throw-at-turn-end';
    try {
      const reply = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: '{}' });
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.text)).toEqual({ error: 'internal proxy error: writer bug' });
    } finally {
      fail = undefined;
    }
  });

  it('a body that is not JSON goes to Ollama unchanged, and Ollama answers it', async () => {
    const bad = '{"model": "qwen2.5:0.5b", "prompt": ';
    const direct = await send(stack.fake.url, '/api/generate', { method: 'POST', body: bad });
    const proxied = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: bad });
    expect(proxied.status).toBe(direct.status);
    expect(proxied.text).toBe(direct.text);
    expect(stack.fake.requests.at(-1)?.body).toBe(bad);
  });

  it('a body over bodyLimitBytes is a 413 before the hook runs: Ollama shape, OpenAI shape on /v1; counted', async () => {
    const calls = seen.length;
    const before = stack.proxy.counters.bodyTooLarge;
    const ollama = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: 'x'.repeat(1025) });
    expect(ollama.status).toBe(413);
    expect(JSON.parse(ollama.text)).toEqual({ error: 'request body too large: the limit on this route is 1024 bytes' });
    expect(ollama.headers.connection).toBe('close');
    const openai = await send(stack.proxy.url, '/v1/embeddings', { method: 'POST', body: 'x'.repeat(5000) });
    expect(openai.status).toBe(413);
    expect(JSON.parse(openai.text)).toEqual({
      error: { message: 'request body too large: the limit on this route is 1024 bytes', type: 'invalid_request_error', param: null, code: null },
    });
    expect(seen.length).toBe(calls);
    expect(stack.proxy.counters.bodyTooLarge).toBe(before + 2);
    expect(new BodyTooLargeError(1024).code).toBe('TINYLLM_BODY_TOO_LARGE');
  });

  it('a chunked body (no Content-Length) that grows past the limit is refused as soon as it does', async () => {
    const url = new URL(stack.proxy.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/api/chat', method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(800));
      req.write('x'.repeat(800));
      // never ended: the proxy must answer without waiting for the rest
    });
    expect(status).toBe(413);
  });

  it.each([
    ['/api/generate', { 'X-TinyLLM-TTL': '0' }, /X-TinyLLM-TTL.*0 is ambiguous/],
    ['/api/chat', { 'Cache-Control': 'max-age=soon' }, /Cache-Control.*max-age/],
    ['/api/embed', { 'X-TinyLLM-Namespace': '../etc' }, /X-TinyLLM-Namespace/],
  ])('a bad control on %s is a 400 naming the header, never forwarded', async (path, headers, message) => {
    const calls = seen.length;
    const upstreamCalls = stack.fake.modelCalls();
    const reply = await send(stack.proxy.url, path, { method: 'POST', headers, body: '{}' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toMatch(message);
    expect(seen.length).toBe(calls);
    expect(stack.fake.modelCalls()).toBe(upstreamCalls);
  });

  it('a bad control on /v1 answers in OpenAI shape', async () => {
    const reply = await send(stack.proxy.url, '/v1/chat/completions', { method: 'POST', headers: { 'Cache-Control': 'no-cache, only-if-cached' }, body: '{}' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('contradict') });
  });

  it('a hook that throws is a 500 in the route shape; one that fails mid-answer cuts the connection', async () => {
    fail = 'throw';
    try {
      const reply = await send(stack.proxy.url, '/v1/completions', { method: 'POST', body: '{}' });
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.text).error).toMatchObject({ message: 'internal proxy error: engine bug', type: 'api_error' });
      fail = 'reject-after-headers';
      await expect(send(stack.proxy.url, '/api/generate', { method: 'POST', body: '{}' })).rejects.toThrow();
    } finally {
      fail = undefined;
    }
    // The proxy still serves.
    expect((await send(stack.proxy.url, '/api/version')).status).toBe(200);
  });
});

describe('bodyLimitBytes applies to cached routes only', () => {
  let proxy: RunningProxy;
  let fake: Awaited<ReturnType<typeof startFakeOllama>>;
  beforeAll(async () => {
    fake = await startFakeOllama();
    proxy = await startProxy({ port: 0, upstream: fake.url, bodyLimitBytes: 16, processMetrics: false });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await fake.close();
  });

  it('a pass-through route forwards a body larger than the limit', async () => {
    const reply = await send(proxy.url, '/api/show', { method: 'POST', body: JSON.stringify({ model: 'qwen2.5:0.5b', verbose: false }) });
    expect(reply.status).toBe(200);
  });
});
