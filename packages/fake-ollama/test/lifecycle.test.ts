import { describe, expect, it } from 'vitest';
import { startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// Startup, concurrency, and close() behaviour.
describe('lifecycle', () => {
  it('picks a free port and reports a matching url', async () => {
    const server = await startFakeOllama();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    await server.close();
  });

  it('serves 1,000 concurrent requests', async () => {
    const server = await startFakeOllama({ latencyMs: 20 });
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: `p${i % 10}`, stream: false });
        return ((await res.json()) as { response: string }).response;
      }),
    );
    expect(server.counts['/api/generate']).toBe(1000);
    expect(new Set(results).size).toBe(10);
    await server.close();
  });

  it('close() is idempotent and ends streams still in progress', async () => {
    const server = await startFakeOllama({ tokensPerSecond: 2, answerTokens: 50 });
    const res = await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x' });
    expect(res.status).toBe(200);
    const reading = res.text().then(
      () => 'ended',
      () => 'failed',
    );
    await Promise.all([server.close(), server.close()]);
    await server.close();
    expect(['ended', 'failed']).toContain(await reading);
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const first = await startFakeOllama();
    await expect(startFakeOllama({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });

  it('validates options', async () => {
    await expect(startFakeOllama({ port: -1 })).rejects.toThrow(RangeError);
    await expect(startFakeOllama({ answerTokens: 0 })).rejects.toThrow(RangeError);
    await expect(startFakeOllama({ models: [''] })).rejects.toThrow(RangeError);
  });
});
