import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { ndjson, post, wait } from './helpers.js';

// Injected failures: status, midstream, truncate, hang, slow, reset, persistence and ordering.
let server: FakeOllamaServer;
beforeEach(async () => {
  server = await startFakeOllama();
});
afterEach(() => server.close());

const gen = { model: 'qwen2.5:0.5b', prompt: 'hi' };

describe('faults', () => {
  it.each([500, 503])('status %i answers {"error"} before the first byte, then recovers', async (status) => {
    server.failNext({ kind: 'status', status });
    const res = await post(server.url, '/api/generate', gen);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as { error: string };
    expect(typeof body.error).toBe('string');
    expect(body.error.length).toBeGreaterThan(0);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
  });

  it('uses a custom message and applies queued faults in order across model routes', async () => {
    server.failNext({ kind: 'status', status: 500, message: 'boom' });
    server.failNext({ kind: 'status', status: 503 }, 2);
    expect(await (await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [] })).json()).toEqual({ error: 'boom' });
    expect((await post(server.url, '/api/embed', { model: 'nomic-embed-text', input: 'x' })).status).toBe(503);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(503);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
    expect(server.modelCalls()).toBe(4);
  });

  it('does not consume faults on non-model routes', async () => {
    server.failNext({ kind: 'status', status: 500 });
    expect((await fetch(`${server.url}/api/tags`)).status).toBe(200);
    expect((await post(server.url, '/api/generate', gen)).status).toBe(500);
  });

  it('persists with times = Infinity until clearFaults()', async () => {
    server.failNext({ kind: 'status', status: 503 }, Number.POSITIVE_INFINITY);
    for (let i = 0; i < 3; i++) expect((await post(server.url, '/api/generate', gen)).status).toBe(503);
    server.clearFaults();
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
  });

  it('midstream keeps status 200, writes an error line and no done chunk', async () => {
    server.failNext({ kind: 'midstream', afterChunks: 2 });
    const res = await post(server.url, '/api/generate', gen);
    expect(res.status).toBe(200);
    const lines = await ndjson(res);
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).every((l) => l.done === false)).toBe(true);
    expect(typeof lines[2]?.error).toBe('string');
    expect(lines.some((l) => l.done === true)).toBe(false);
  });

  it('midstream with stream:false is a 500', async () => {
    server.failNext({ kind: 'midstream' });
    const res = await post(server.url, '/api/generate', { ...gen, stream: false });
    expect(res.status).toBe(500);
    expect(await res.json()).toHaveProperty('error');
  });

  it('truncate ends the stream cleanly without done or error', async () => {
    server.failNext({ kind: 'truncate', afterChunks: 4 });
    const lines = await ndjson(await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }] }));
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.done === false && !('error' in l))).toBe(true);
  });

  it('hang never answers, and close() still resolves', async () => {
    server.failNext({ kind: 'hang' });
    let settled = false;
    const pending = post(server.url, '/api/generate', gen).then(
      () => 'answered',
      () => 'failed',
    );
    void pending.then(() => {
      settled = true;
    });
    await wait(300);
    expect(settled).toBe(false);
    expect(server.modelCalls()).toBe(1);
    await server.close();
    expect(await pending).toBe('failed');
  });

  it('reset destroys the connection', async () => {
    server.failNext({ kind: 'reset' });
    await expect(post(server.url, '/api/generate', gen)).rejects.toThrow();
    expect((await post(server.url, '/api/generate', gen)).status).toBe(200);
    expect(server.modelCalls()).toBe(2);
  });

  it('slow adds a one-off delay of at least latencyMs', async () => {
    server.failNext({ kind: 'slow', latencyMs: 150 });
    const t0 = performance.now();
    const res = await post(server.url, '/api/generate', { ...gen, stream: false });
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    const body = (await res.json()) as { total_duration: number };
    expect(body.total_duration).toBeGreaterThanOrEqual(149e6);
  });

  it('rejects malformed faults', () => {
    expect(() => server.failNext({ kind: 'status', status: 200 })).toThrow(RangeError);
    expect(() => server.failNext({ kind: 'hang' }, 0)).toThrow(RangeError);
  });
});
