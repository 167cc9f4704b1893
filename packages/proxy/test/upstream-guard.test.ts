import { request } from 'node:http';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { send, startTestUpstream, type TestUpstream, useStack, waitFor } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(base, path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the bound on generations at Ollama', () => {
  const cache = ollamaResponseCache(new MemoryBackend(), {});
  const stack = useStack({ latencyMs: 150 }, { cache, maxUpstreamGenerations: 2, maxUpstreamQueue: 100 });
  beforeEach(() => stack.fake.resetCounts());

  it('50 concurrent misses reach Ollama at most 2 at a time, and every one is answered', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(stack.proxy.url, '/api/generate', { model: MODEL, prompt: `miss ${i}`, stream: i % 2 === 0 })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(replies.every((r) => r.headers['x-cache'] === 'MISS')).toBe(true);
    expect(stack.fake.modelCalls()).toBe(50);
    expect(stack.fake.peakModelCallsInFlight()).toBe(2);
    expect(stack.proxy.gate.peakActive).toBe(2);
    expect(stack.proxy.gate.active).toBe(0);
    expect(stack.proxy.gate.queued).toBe(0);
  });

  it('hits keep flowing while the queue is full: they never wait for a slot', async () => {
    const cached = { model: MODEL, prompt: 'cached before the rush', stream: false };
    expect((await post(stack.proxy.url, '/api/generate', cached)).headers['x-cache']).toBe('MISS');
    const rush = Promise.all(
      Array.from({ length: 20 }, (_, i) => post(stack.proxy.url, '/api/chat', { model: MODEL, messages: [{ role: 'user', content: `rush ${i}` }] })),
    );
    await waitFor(() => stack.proxy.gate.queued >= 10, 5000, 'the queue to fill');
    for (let i = 0; i < 5; i++) {
      const hit = await post(stack.proxy.url, '/api/generate', cached);
      expect(hit.headers['x-cache']).toBe('HIT');
      // Answered while misses were still waiting for a slot.
      expect(stack.proxy.gate.queued).toBeGreaterThan(0);
    }
    const streamedHit = await post(stack.proxy.url, '/api/generate', { ...cached, stream: true });
    expect(streamedHit.headers['x-cache']).toBe('HIT');
    expect(stack.proxy.gate.queued).toBeGreaterThan(0);
    expect((await rush).every((r) => r.status === 200)).toBe(true);
  });

  it('the bound shows in the metrics', async () => {
    const metrics = (await send(stack.proxy.url, '/tinyllm/metrics')).text;
    expect(metrics).toMatch(/^tinyllm_upstream_generations_limit 2$/m);
    expect(metrics).toMatch(/^tinyllm_upstream_generations_active 0$/m);
    expect(metrics).toMatch(/^tinyllm_upstream_generations_queued 0$/m);
  });
});

describe('a full queue', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  const held: Array<() => void> = [];
  beforeAll(async () => {
    // Holds every model call until told to answer, so the test decides when slots free up.
    upstream = await startTestUpstream((req, res) => {
      const answer = (): void => {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ model: MODEL, created_at: new Date().toISOString(), response: `answer to ${req.url}`, done: true, done_reason: 'stop' }));
      };
      if (req.url === '/api/tags') answer();
      else held.push(answer);
    });
    proxy = await startProxy({
      port: 0,
      upstream: upstream.url,
      cache: ollamaResponseCache(new MemoryBackend(), {}),
      processMetrics: false,
      maxUpstreamGenerations: 1,
      maxUpstreamQueue: 1,
    });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });
  const releaseAll = (): void => {
    for (const answer of held.splice(0)) answer();
  };

  it("beyond the bound and the queue: 503 with Retry-After, in the route's error shape; other routes pass", async () => {
    const running = post(proxy.url, '/api/generate', { model: MODEL, prompt: 'one', stream: false });
    await waitFor(() => held.length === 1, 5000, 'the first call at the upstream');
    const waiting = post(proxy.url, '/api/generate', { model: MODEL, prompt: 'two', stream: false });
    await waitFor(() => proxy.gate.queued === 1, 5000, 'the second call to queue');
    const refused = await post(proxy.url, '/api/generate', { model: MODEL, prompt: 'three', stream: false });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text).error).toMatch(/^server busy, please try again: 1 generations are running at Ollama and 1 more are waiting/);
    const openai = await post(proxy.url, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'four' }] });
    expect(openai.status).toBe(503);
    expect(JSON.parse(openai.text).error).toMatchObject({ type: 'api_error', message: expect.stringMatching(/^server busy/) });
    // Uncached model routes are bounded too, whatever the spelling of the path; other routes are not.
    expect((await post(proxy.url, '/v1/responses', { model: MODEL, input: 'five' })).status).toBe(503);
    expect((await post(proxy.url, '/api/%67enerate', { model: MODEL, prompt: 'six' })).status).toBe(503);
    expect((await post(proxy.url, '/api/generate', 'not json')).status).toBe(503);
    expect((await send(proxy.url, '/api/tags')).status).toBe(200);
    expect(proxy.counters.upstreamBusy).toBe(5);
    releaseAll();
    await waitFor(() => held.length === 1, 5000, 'the queued call at the upstream');
    releaseAll();
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect(upstream.received.filter((r) => r.url !== '/api/tags')).toHaveLength(2);
  });

  it('a client that leaves while waiting gives up its place', async () => {
    const running = post(proxy.url, '/api/generate', { model: MODEL, prompt: 'runs', stream: false });
    await waitFor(() => held.length === 1, 5000, 'the running call');
    const body = JSON.stringify({ model: MODEL, prompt: 'leaves', stream: false });
    const target = new URL(proxy.url);
    const leaving = request({
      host: target.hostname,
      port: target.port,
      path: '/api/generate',
      method: 'POST',
      headers: { 'Content-Length': Buffer.byteLength(body) },
    });
    leaving.on('error', () => {});
    leaving.end(body);
    await waitFor(() => proxy.gate.queued === 1, 5000, 'the leaving call to queue');
    leaving.destroy();
    await waitFor(() => proxy.gate.queued === 0, 5000, 'its place to be given up');
    const next = post(proxy.url, '/api/generate', { model: MODEL, prompt: 'takes the place', stream: false });
    await waitFor(() => proxy.gate.queued === 1, 5000, 'the next call to queue');
    releaseAll();
    await waitFor(() => held.length === 1, 5000, 'the next call at the upstream');
    releaseAll();
    expect((await running).status).toBe(200);
    expect((await next).status).toBe(200);
    expect(upstream.received.some((r) => r.body.toString().includes('leaves'))).toBe(false);
  });
});

describe('the Authorization header and Ollama', () => {
  const KEY = 'tk-team-a-user-0123456789';
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await startTestUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ model: MODEL, created_at: new Date().toISOString(), response: 'ok', done: true, models: [] }));
    });
  });
  afterAll(() => upstream.close());

  async function authorizationSeen(options: Parameters<typeof startProxy>[0]): Promise<Array<string | undefined>> {
    const proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false, cache: ollamaResponseCache(new MemoryBackend(), {}), ...options });
    try {
      upstream.received.length = 0;
      const headers = { Authorization: `Bearer ${KEY}` };
      expect((await send(proxy.url, '/api/tags', { headers })).status).toBe(200);
      expect((await post(proxy.url, '/api/generate', { model: MODEL, prompt: 'auth', stream: false }, headers)).status).toBe(200);
      expect((await post(proxy.url, '/api/generate', 'not json', headers)).status).toBe(200);
      return upstream.received.map((r) => r.headers.authorization);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  }

  it("with API keys it stops at the proxy (the key is the proxy's), unless forwardAuthorization says otherwise", async () => {
    const keys = { keys: [{ key: KEY, tenant: 'team-a' }] };
    expect(await authorizationSeen({ keys })).toEqual([undefined, undefined, undefined]);
    expect(await authorizationSeen({ keys, forwardAuthorization: true })).toEqual(Array(3).fill(`Bearer ${KEY}`));
  });

  it('without keys it passes through, as every other header does (the proxy does not read it)', async () => {
    expect(await authorizationSeen({})).toEqual(Array(3).fill(`Bearer ${KEY}`));
    expect(await authorizationSeen({ forwardAuthorization: false })).toEqual([undefined, undefined, undefined]);
  });
});
