import { afterEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { ndjson, post } from './helpers.js';

// Latency and pacing: only lower bounds are asserted, never upper bounds.
let server: FakeOllamaServer | undefined;
afterEach(() => server?.close());

describe('latency and pacing', () => {
  it('waits at least latencyMs before answering a model route, and reports it in the durations', async () => {
    server = await startFakeOllama({ latencyMs: 120 });
    const t0 = performance.now();
    const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', stream: false });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(119);
    const body = (await res.json()) as { total_duration: number; prompt_eval_duration: number };
    expect(body.prompt_eval_duration).toBeGreaterThanOrEqual(119e6);
    expect(body.total_duration).toBeGreaterThanOrEqual(body.prompt_eval_duration);
  });

  it('setLatency() changes the delay for later calls', async () => {
    server = await startFakeOllama();
    server.setLatency(100);
    const t0 = performance.now();
    await (await post(server.url, '/api/embed', { model: 'nomic-embed-text', input: 'x' })).json();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    expect(() => server?.setLatency(-1)).toThrow(RangeError);
  });

  it('paces streamed tokens at tokensPerSecond (eval_duration >= tokens / tps)', async () => {
    server = await startFakeOllama({ tokensPerSecond: 100, answerTokens: 10 });
    const t0 = performance.now();
    const lines = await ndjson(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x' }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    const final = lines.at(-1) as { eval_count: number; eval_duration: number; total_duration: number };
    expect(final.eval_count).toBe(10);
    expect(final.eval_duration).toBeGreaterThanOrEqual(99e6);
    expect(final.total_duration).toBeGreaterThanOrEqual(final.eval_duration);
  });

  it('setTokensPerSecond() paces stream:false answers as well', async () => {
    server = await startFakeOllama({ answerTokens: 5 });
    server.setTokensPerSecond(50);
    const t0 = performance.now();
    const res = await post(server.url, '/api/chat', { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'x' }], stream: false });
    expect(((await res.json()) as { eval_duration: number }).eval_duration).toBeGreaterThanOrEqual(99e6);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
  });
});
