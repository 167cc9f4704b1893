import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { ndjson, post, raw } from './helpers.js';

// §1.4: HEAD and POST /api/blobs/:digest (routes.go:1688-1753).
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ pullIntervalMs: 0 });
});
afterAll(() => server.close());

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Uploads `count` chunks of `chunk` without ever holding the whole body. */
function upload(digest: string, chunk: Buffer, count: number): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: `/api/blobs/${digest}`, method: 'POST' }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < count) {
        sent++;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('blobs', () => {
  it('HEAD is 404 before an upload, POST is 201 Created, then HEAD 200 and POST 200', async () => {
    const data = Buffer.from('a small model layer');
    const digest = sha(data);
    expect((await raw(server.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    const created = await raw(server.url, `/api/blobs/${digest}`, { method: 'POST', body: data });
    expect(created.status).toBe(201);
    expect(created.body).toBe('');
    expect((await raw(server.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    expect((await raw(server.url, `/api/blobs/${digest}`, { method: 'POST', body: data })).status).toBe(200);
  });

  it('refuses a digest mismatch and a malformed digest with 400', async () => {
    const wrong = sha('something else');
    const res = await raw(server.url, `/api/blobs/${wrong}`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: `digest mismatch, expected "${wrong}", got "${sha('payload')}"` });
    expect(JSON.parse((await raw(server.url, '/api/blobs/md5:abc', { method: 'POST', body: 'x' })).body)).toEqual({ error: 'invalid digest format' });
    expect((await raw(server.url, '/api/blobs/md5:abc', { method: 'HEAD' })).status).toBe(400);
  });

  it('lets /api/create use an uploaded blob', async () => {
    const data = Buffer.from('gguf bytes');
    await raw(server.url, `/api/blobs/${sha(data)}`, { method: 'POST', body: data });
    const lines = await ndjson(await post(server.url, '/api/create', { model: 'from-blob', files: { 'model.gguf': sha(data) } }));
    expect(lines.at(-1)).toEqual({ status: 'success' });
    // The failure comes before any line, so it is a status (streamResponse, routes.go:2109-2118).
    const missing = await post(server.url, '/api/create', { model: 'from-nothing', files: { 'model.gguf': sha('never uploaded') } });
    expect(missing.status).toBe(500);
    expect(await missing.json()).toHaveProperty('error');
  });

  it('takes a 1 GiB upload in constant memory, verifying its digest as it streams', { timeout: 120_000 }, async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const count = 1024;
    const hash = createHash('sha256');
    for (let i = 0; i < count; i++) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const before = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - before.arrayBuffers + (m.heapUsed - before.heapUsed));
    }, 20);
    const res = await upload(digest, chunk, count);
    clearInterval(sampler);
    expect(res.status).toBe(201);
    // Holding the body would take 1,024 MiB; streaming keeps the growth to buffers in flight.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
  });
});
