import { request } from 'node:http';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { beforeEach, describe, expect, it } from 'vitest';
import { send, useStack, waitFor } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}) });
beforeEach(() => {
  stack.fake.resetCounts();
  stack.fake.setLatency(0);
  stack.fake.setTokensPerSecond(0);
});

const post = (body: unknown) =>
  send(stack.proxy.url, '/api/generate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

// A streaming request whose chunks are timed as they arrive; abort() drops the connection.
function streamed(body: unknown): { chunks: Array<{ at: number; line: string }>; done: Promise<void>; abort: () => void } {
  const chunks: Array<{ at: number; line: string }> = [];
  const url = new URL(stack.proxy.url);
  let abort = (): void => {};
  const done = new Promise<void>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/api/generate', method: 'POST', agent: false }, (res) => {
      let pending = '';
      res.on('data', (data: Buffer) => {
        pending += data.toString('utf8');
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          chunks.push({ at: Date.now(), line: pending.slice(0, newline) });
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      });
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
    abort = () => req.destroy();
    req.end(JSON.stringify(body));
  });
  return { chunks, done, abort };
}

describe('one upstream call for identical concurrent requests', () => {
  it('200 concurrent identical requests, streaming and not mixed: 1 upstream call, every client gets the whole answer', async () => {
    stack.fake.setLatency(100);
    const body = { model: MODEL, prompt: 'the herd at the proxy' };
    const expected = fakeAnswer(body).text;
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i % 2 === 0 ? body : { ...body, stream: false })));
    expect(stack.fake.modelCalls()).toBe(1);
    const statuses = new Map<string, number>();
    replies.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      statuses.set(String(reply.headers['x-cache']), (statuses.get(String(reply.headers['x-cache'])) ?? 0) + 1);
      const text =
        i % 2 === 0
          ? reply.text
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line).response)
              .join('')
          : JSON.parse(reply.text).response;
      expect(text).toBe(expected);
    });
    expect(statuses.get('MISS')).toBe(1);
    expect((statuses.get('COALESCED') ?? 0) + (statuses.get('HIT') ?? 0)).toBe(199);
  });

  it('a request that joins a slow streaming miss gets its first chunk before the leader stream ends', async () => {
    stack.fake.setTokensPerSecond(40);
    const body = { model: MODEL, prompt: 'slow leader', options: { num_predict: 20 } };
    const leader = streamed(body);
    await waitFor(() => leader.chunks.length >= 3, 5000, 'the leader first chunks');
    const joiner = streamed(body);
    await Promise.all([leader.done, joiner.done]);
    expect(stack.fake.modelCalls()).toBe(1);
    const leaderEnd = leader.chunks.at(-1)?.at ?? 0;
    expect(joiner.chunks[0]?.at).toBeLessThan(leaderEnd);
    const text = (chunks: Array<{ line: string }>) => chunks.map((c) => JSON.parse(c.line).response).join('');
    expect(text(joiner.chunks)).toBe(text(leader.chunks));
  });
});

describe('a client that goes away', () => {
  it('mid-stream, alone: the upstream generation is aborted and nothing partial is stored', async () => {
    stack.fake.setTokensPerSecond(20);
    const body = { model: MODEL, prompt: 'walk away', options: { num_predict: 40 } };
    const client = streamed(body);
    await waitFor(() => client.chunks.length >= 2, 5000, 'the first chunks');
    client.abort();
    await client.done;
    // The fake sees its connection close long before the answer would have finished.
    await new Promise((resolve) => setTimeout(resolve, 200));
    stack.fake.setTokensPerSecond(0);
    const again = await post({ ...body, stream: false });
    expect(again.headers['x-cache']).toBe('MISS');
    expect(stack.fake.modelCalls()).toBe(2);
  });

  it('mid-stream, while another request waits on the same answer: the generation goes on for it', async () => {
    stack.fake.setTokensPerSecond(40);
    const body = { model: MODEL, prompt: 'stay for the other one', options: { num_predict: 20 } };
    const leaver = streamed(body);
    await waitFor(() => leaver.chunks.length >= 2, 5000, 'the first chunks');
    const stayer = post({ ...body, stream: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    leaver.abort();
    const reply = await stayer;
    expect(JSON.parse(reply.text).response).toBe(fakeAnswer(body).text);
    expect(stack.fake.modelCalls()).toBe(1);
    expect((await post({ ...body, stream: false })).headers['x-cache']).toBe('HIT');
  });
});
