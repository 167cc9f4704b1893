import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CacheEntry } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProxyHandler, type TinyllmProxyHandler } from '../src/index.js';
import { send } from './helpers.js';

// What happened, in order: the store's writes, the answers' res.end, and the end of the turn in
// which each request's body was read.
const order: string[] = [];

class RecordingBackend extends MemoryBackend {
  protected override write(key: string, entry: CacheEntry, valueJson: string): boolean | undefined {
    order.push('store');
    return super.write(key, entry, valueJson);
  }
}

let fake: FakeOllamaServer;
let proxy: TinyllmProxyHandler;
let server: Server;
let url: string;

beforeAll(async () => {
  fake = await startFakeOllama({ models: ['qwen2.5:0.5b'] });
  proxy = createProxyHandler({ upstream: fake.url, processMetrics: false, cache: ollamaResponseCache(new RecordingBackend(), {}) });
  server = createServer((req, res) => {
    // Registered before the proxy's own listener, so this turn-end marker is queued first.
    req.on('end', () => setImmediate(() => order.push('turn end')));
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      order.push('answer');
      return end(...args);
    }) as typeof res.end;
    proxy.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fake.close();
});

beforeEach(() => {
  order.length = 0;
});

const question = (prompt: string, stream: boolean): string => JSON.stringify({ model: 'qwen2.5:0.5b', prompt, stream });

describe('when answers are written', () => {
  it.each([false, true])('a miss (stream: %s) is answered before the store writes it; its hit waits for the end of its turn', async (stream) => {
    const body = question(`turn-end ${stream}`, stream);
    const miss = await send(url, '/api/generate', { method: 'POST', body });
    expect(miss.headers['x-cache']).toBe('MISS');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order.filter((event) => event !== 'turn end')).toEqual(['answer', 'store']);
    order.length = 0;
    const hit = await send(url, '/api/generate', { method: 'POST', body });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe(miss.text.replace(/"created_at":"[^"]*"/g, hit.text.match(/"created_at":"[^"]*"/)?.[0] ?? ''));
    expect(order).toEqual(['turn end', 'answer']);
  });
});
