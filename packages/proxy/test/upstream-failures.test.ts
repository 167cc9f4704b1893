import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy, UpstreamUnreachableError } from '../src/index.js';
import { send, startTestUpstream, type TestUpstream, useStack } from './helpers.js';

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Ollama unreachable', () => {
  let proxy: RunningProxy;
  let upstreamUrl: string;
  beforeAll(async () => {
    upstreamUrl = `http://127.0.0.1:${await deadPort()}`;
    proxy = await startProxy({ port: 0, upstream: upstreamUrl, processMetrics: false });
  });
  afterAll(() => proxy.close({ graceMs: 0 }));

  it('is a 502 with an Ollama-shaped error naming the upstream, counted', async () => {
    const before = proxy.counters.upstreamUnreachable;
    const reply = await send(proxy.url, '/api/tags');
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    const { error } = JSON.parse(reply.text) as { error: string };
    expect(error).toContain(`cannot reach Ollama at ${upstreamUrl}`);
    expect(error).toContain('ECONNREFUSED');
    expect(proxy.counters.upstreamUnreachable).toBe(before + 1);
    expect(proxy.counters.upstreamErrors).toBeGreaterThanOrEqual(1);
  });

  it('on a cached route too, and in OpenAI shape on /v1', async () => {
    const generate = await send(proxy.url, '/api/generate', { method: 'POST', body: '{"model":"m","prompt":"p"}' });
    expect(generate.status).toBe(502);
    expect(JSON.parse(generate.text).error).toContain(upstreamUrl);
    const chat = await send(proxy.url, '/v1/chat/completions', { method: 'POST', body: '{"model":"m","messages":[]}' });
    expect(chat.status).toBe(502);
    expect(JSON.parse(chat.text)).toEqual({ error: { message: expect.stringContaining(upstreamUrl), type: 'api_error', param: null, code: null } });
  });

  it('a streamed upload to a dead upstream is refused without hanging', async () => {
    const reply = await send(proxy.url, '/api/blobs/sha256:abc', { method: 'POST', body: Buffer.alloc(512 * 1024) });
    expect(reply.status).toBe(502);
  });

  it('the error class carries a stable code', () => {
    const error = new UpstreamUnreachableError('http://127.0.0.1:1', 'ECONNREFUSED');
    expect(UpstreamUnreachableError.isInstance(error)).toBe(true);
    expect(error.code).toBe('TINYLLM_UPSTREAM_UNREACHABLE');
    expect(error.upstream).toBe('http://127.0.0.1:1');
  });
});

describe('upstream timeouts', () => {
  // undici checks response deadlines on a coarse (about one second) clock: the fake is slower than that.
  const stack = useStack({ latencyMs: 3000 });

  it('none by default: a non-streaming generation that sends nothing for a while still gets through', async () => {
    const reply = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: '{"model":"qwen2.5:0.5b","prompt":"slow","stream":false}' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ done: true });
  });

  it('with upstreamTimeoutMs, no headers in time is a 504 naming the deadline, counted', async () => {
    const proxy = await startProxy({ port: 0, upstream: stack.fake.url, upstreamTimeoutMs: 200, processMetrics: false });
    try {
      const reply = await send(proxy.url, '/api/generate', { method: 'POST', body: '{"model":"qwen2.5:0.5b","prompt":"slow","stream":false}' });
      expect(reply.status).toBe(504);
      expect(JSON.parse(reply.text).error).toBe(`Ollama at ${stack.fake.url} did not answer within 200 ms`);
      expect(proxy.counters.upstreamTimeouts).toBe(1);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });
});

describe('Ollama breaks off in the middle of an answer', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  beforeAll(async () => {
    upstream = await startTestUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"response":"a","done":false}\n');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  it("the client's answer is cut too (never a clean end that looks complete), and the break is counted", async () => {
    await expect(send(proxy.url, '/api/pull', { method: 'POST', body: '{}' })).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect(proxy.counters.upstreamBroken).toBe(1);
  });
});
