import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { startTestUpstream, type TestUpstream, useStack, waitFor } from './helpers.js';

const LINES = 6;
const GAP_MS = 120;

describe('streams pass through as they are written, never buffered', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  const sentAt: number[] = [];
  let upstreamWritten = 0;
  let upstreamDone = false;

  beforeAll(async () => {
    upstream = await startTestUpstream(async (req, res) => {
      if (req.url === '/api/pull') {
        // Ollama's pull progress: NDJSON lines, minutes apart in real life.
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        sentAt.length = 0;
        for (let i = 0; i < LINES; i++) {
          sentAt.push(performance.now());
          res.write(`${JSON.stringify({ status: i === LINES - 1 ? 'success' : `pulling ${i}`, completed: i, total: LINES })}\n`);
          if (i < LINES - 1) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
        }
        res.end();
        return;
      }
      // A large answer written with the upstream's own backpressure respected: 64 MiB.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      upstreamWritten = 0;
      upstreamDone = false;
      for (let i = 0; i < 1024; i++) {
        upstreamWritten += chunk.length;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
      upstreamDone = true;
    });
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  it('/api/pull progress reaches the client line by line', async () => {
    const url = new URL(proxy.url);
    const receivedAt: number[] = [];
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/api/pull', method: 'POST', headers: { 'Content-Length': '2' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          receivedAt.push(performance.now());
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(text.trim().split('\n')).toHaveLength(LINES);
    expect(JSON.parse(text.trim().split('\n').at(-1) as string)).toMatchObject({ status: 'success' });
    // The first line reached the client before the upstream had even written the last one.
    expect(receivedAt[0] as number).toBeLessThan(sentAt[LINES - 1] as number);
    // And the lines arrived spread out as they were sent (one delivery per line), not in one burst at the end.
    expect(receivedAt.length).toBeGreaterThanOrEqual(LINES - 1);
  });

  it('respects backpressure: a client that stops reading holds the upstream back, then gets every byte', async () => {
    const url = new URL(proxy.url);
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/big', method: 'GET' }, (res) => {
        res.pause();
        // While the client reads nothing, the proxy must not pull 64 MiB out of the upstream into memory.
        setTimeout(() => {
          try {
            expect(upstreamDone).toBe(false);
            expect(upstreamWritten).toBeLessThan(32 * 1024 * 1024);
          } catch (error) {
            reject(error);
            return;
          }
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          res.on('end', resolve);
          res.resume();
        }, 500);
      });
      req.on('error', reject);
      req.end();
    });
    await done;
    expect(received).toBe(64 * 1024 * 1024);
    await waitFor(() => upstreamDone, 5000, 'the upstream to finish writing');
  });
});

describe('a generation streamed through a cached route (default hook) arrives chunk by chunk', () => {
  const stack = useStack({ tokensPerSecond: 20 });

  it('the first NDJSON chunk arrives long before the last', async () => {
    const url = new URL(stack.proxy.url);
    const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'count slowly', options: { num_predict: 8 } });
    const times: number[] = [];
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/api/generate', method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          expect(res.headers['content-type']).toBe('application/x-ndjson');
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            times.push(performance.now());
          });
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const lines = text.trim().split('\n');
    expect(lines.length).toBe(9);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ done: true });
    // 8 tokens at 20/s: the stream spans ~350 ms; the first chunk came well before the end.
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThan(200);
  });
});
