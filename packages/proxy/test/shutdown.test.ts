import { request } from 'node:http';
import { ResponseCache } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startProxy } from '../src/index.js';
import { send } from './helpers.js';

/** Starts a streaming generate through the proxy; resolves once the first chunk arrived, with the promise of the whole text. */
function startStream(url: string, numPredict: number): Promise<{ rest: Promise<{ text: string; headers: Record<string, unknown> }> }> {
  const target = new URL(url);
  const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'a long answer', options: { num_predict: numPredict } });
  return new Promise((resolveFirst, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: '/api/generate', method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        const rest = new Promise<{ text: string; headers: Record<string, unknown> }>((resolve, rejectRest) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text === '') resolveFirst({ rest });
            text += chunk;
          });
          res.on('end', () => resolve({ text, headers: res.headers }));
          res.on('error', rejectRest);
          res.on('aborted', () => rejectRest(new Error('aborted')));
        });
        rest.catch(() => {});
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('closing the proxy', () => {
  let fake: FakeOllamaServer;
  beforeEach(async () => {
    fake = await startFakeOllama({ tokensPerSecond: 20 });
  });
  afterEach(() => fake.close());

  it('lets a stream in flight finish, refuses new connections, then flushes and closes the cache', async () => {
    const cache = new ResponseCache({ backend: new MemoryBackend() });
    const proxy = await startProxy({ port: 0, upstream: fake.url, cache, processMetrics: false });
    const { rest } = await startStream(proxy.url, 10);
    const closed = proxy.close({ graceMs: 10_000 });
    await expect(send(proxy.url, '/api/tags')).rejects.toThrow(/ECONNREFUSED/);
    const { text } = await rest;
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ done: true });
    expect(await closed).toBe(true);
    expect(proxy.counters.inFlight).toBe(0);
    await expect(cache.get('k')).rejects.toThrow(/after close/);
  });

  it('cuts what is still running when the grace period ends, and says so', async () => {
    const proxy = await startProxy({ port: 0, upstream: fake.url, processMetrics: false });
    const { rest } = await startStream(proxy.url, 200);
    const started = performance.now();
    expect(await proxy.close({ graceMs: 200 })).toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(rest).rejects.toThrow();
  });

  it('readiness says 503 while closing; liveness stays ok', async () => {
    const proxy = await startProxy({ port: 0, upstream: fake.url, processMetrics: false });
    proxy.handler.beginClose();
    const ready = await send(proxy.url, '/tinyllm/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: false, shuttingDown: true });
    expect(ready.headers.connection).toBe('close');
    expect((await send(proxy.url, '/tinyllm/health')).status).toBe(200);
    await proxy.close({ graceMs: 0 });
  });
});
