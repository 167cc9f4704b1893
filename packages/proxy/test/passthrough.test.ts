import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { comparableHeaders, send, startTestUpstream, type TestUpstream, useStack } from './helpers.js';

const stack = useStack();

describe('pass-through to the fake Ollama: status, headers and bytes as Ollama sent them', () => {
  it.each([
    ['GET', '/', undefined],
    ['HEAD', '/', undefined],
    ['GET', '/api/version', undefined],
    ['HEAD', '/api/version', undefined],
    ['GET', '/api/tags', undefined],
    ['HEAD', '/api/tags', undefined],
    ['POST', '/api/show', JSON.stringify({ model: 'qwen2.5:0.5b' })],
    ['POST', '/api/show', JSON.stringify({})],
    ['GET', '/no/such/route', undefined],
    ['POST', '/api/tags', '{}'],
    ['GET', '/api/chat', undefined],
    ['GET', '/v1/models', undefined],
    ['POST', '/api/generate/', '{}'],
    ['GET', '/api/tags?verbose=1', undefined],
  ])('%s %s', async (method, path, body) => {
    const headers = body === undefined ? undefined : { 'Content-Type': 'application/json' };
    const direct = await send(stack.fake.url, path, { method, headers, body });
    const proxied = await send(stack.proxy.url, path, { method, headers, body });
    expect(proxied.status).toBe(direct.status);
    expect(proxied.body.equals(direct.body)).toBe(true);
    expect(comparableHeaders(proxied)).toEqual(comparableHeaders(direct));
  });

  it('a cached route passes through while no engine is plugged in, marked X-Cache: BYPASS', async () => {
    const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'Why is the sky blue?', stream: false });
    const direct = await send(stack.fake.url, '/api/generate', { method: 'POST', body });
    const proxied = await send(stack.proxy.url, '/api/generate', { method: 'POST', body });
    expect(proxied.status).toBe(200);
    const strip = (text: string) => JSON.parse(text, (key, value) => (key === 'created_at' || key.endsWith('_duration') ? undefined : value));
    expect(strip(proxied.text)).toEqual(strip(direct.text));
    expect(proxied.headers['x-cache']).toBe('BYPASS');
    expect(stack.proxy.counters.requestsOf('generate', 'bypass')).toBeGreaterThanOrEqual(1);
  });

  it('a namespace prefix is taken off before forwarding', async () => {
    const direct = await send(stack.fake.url, '/api/tags');
    const proxied = await send(stack.proxy.url, '/ns/team-a/api/tags');
    expect(proxied.status).toBe(200);
    expect(proxied.body.equals(direct.body)).toBe(true);
  });

  it('a bad namespace prefix is a 400 in the route shape, never forwarded', async () => {
    const before = stack.fake.counts['/api/tags'] ?? 0;
    const ollama = await send(stack.proxy.url, '/ns/a%2Fb/api/tags');
    expect(ollama.status).toBe(400);
    expect(JSON.parse(ollama.text).error).toMatch(/path prefix \/ns\/<name>\/.*a%2Fb/);
    const openai = await send(stack.proxy.url, '/ns/../v1/models');
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.text).error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(stack.fake.counts['/api/tags'] ?? 0).toBe(before);
  });

  it('the official ollama client works against the proxy (list, show, version, generate, chat)', async () => {
    const viaProxy = new Ollama({ host: stack.proxy.url });
    const direct = new Ollama({ host: stack.fake.url });
    expect(await viaProxy.list()).toEqual(await direct.list());
    expect(await viaProxy.show({ model: 'qwen2.5:0.5b' })).toEqual(await direct.show({ model: 'qwen2.5:0.5b' }));
    expect(await viaProxy.version()).toEqual(await direct.version());
    const generated = await viaProxy.generate({ model: 'qwen2.5:0.5b', prompt: 'hello', options: { temperature: 0 } });
    expect(generated.response).toBe((await direct.generate({ model: 'qwen2.5:0.5b', prompt: 'hello', options: { temperature: 0 } })).response);
    let streamed = '';
    for await (const part of await viaProxy.chat({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      streamed += part.message.content;
    }
    const whole = await direct.chat({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'hi' }] });
    expect(streamed).toBe(whole.message.content);
    await expect(viaProxy.show({ model: 'no-such-model' })).rejects.toMatchObject({ status_code: 404 });
  });
});

describe('pass-through of what the fake lacks (a recording upstream)', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  beforeAll(async () => {
    upstream = await startTestUpstream((req, res, received) => {
      if (req.url === '/api/delete') {
        // Ollama: 200 with an empty body.
        res.writeHead(200, { 'Content-Length': '0' });
        res.end();
        return;
      }
      if (req.url?.startsWith('/api/blobs/')) {
        res.writeHead(req.method === 'HEAD' ? 404 : 201, { 'Content-Length': '0' });
        res.end();
        return;
      }
      res.writeHead(207, 'Multi-Status', [
        'Content-Type',
        'application/json',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
        'X-Upstream',
        'yes',
        'Connection',
        'keep-alive, X-Hop',
        'X-Hop',
        'hop',
      ]);
      res.end(JSON.stringify({ echoed: received.body.length }));
    });
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  it('DELETE /api/delete forwards its JSON body', async () => {
    const body = JSON.stringify({ model: 'qwen2.5:0.5b' });
    const reply = await send(proxy.url, '/api/delete', { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(0);
    const got = upstream.received.at(-1);
    expect(got?.method).toBe('DELETE');
    expect(got?.body.toString()).toBe(body);
    expect(got?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('HEAD and POST /api/blobs/:digest keep their statuses (404, 201)', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect((await send(proxy.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    const posted = await send(proxy.url, `/api/blobs/${digest}`, { method: 'POST', body: Buffer.alloc(1000, 7) });
    expect(posted.status).toBe(201);
    expect(upstream.received.at(-1)?.body.equals(Buffer.alloc(1000, 7))).toBe(true);
  });

  it('sends Ollama its own Host, drops hop-by-hop and X-TinyLLM-* headers, keeps the rest in order', async () => {
    await send(proxy.url, '/api/anything?x=1', {
      method: 'PUT',
      headers: [
        'Host',
        'proxy.example.com:8080',
        'X-First',
        '1',
        'Connection',
        'keep-alive, X-Private',
        'X-Private',
        'secret',
        'Keep-Alive',
        'timeout=5',
        'Proxy-Authorization',
        'Basic x',
        'TE',
        'trailers',
        'X-TinyLLM-Namespace',
        'team-a',
        'X-Dup',
        'a',
        'X-Dup',
        'b',
        'Authorization',
        'Bearer abc',
        'Content-Length',
        '2',
      ],
      body: '{}',
    });
    const got = upstream.received.at(-1);
    expect(got?.method).toBe('PUT');
    expect(got?.url).toBe('/api/anything?x=1');
    expect(got?.headers.host).toBe(new URL(upstream.url).host);
    const names = (got?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const dropped of ['x-private', 'keep-alive', 'proxy-authorization', 'te', 'x-tinyllm-namespace']) expect(names).not.toContain(dropped);
    expect(got?.headers['x-first']).toBe('1');
    expect(got?.headers['x-dup']).toBe('a, b');
    expect(got?.headers.authorization).toBe('Bearer abc');
    expect(names.indexOf('x-first')).toBeLessThan(names.indexOf('authorization'));
  });

  it("returns Ollama's status, reason, repeated headers and body; drops its hop-by-hop headers", async () => {
    const reply = await send(proxy.url, '/api/whatever', { method: 'POST', body: 'abc' });
    expect(reply.status).toBe(207);
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(reply.headers['x-upstream']).toBe('yes');
    expect(reply.headers['x-hop']).toBeUndefined();
    expect(JSON.parse(reply.text)).toEqual({ echoed: 3 });
  });
});
