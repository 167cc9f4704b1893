import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUpstream, type TestUpstream } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/proxy-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const GIB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31 + 7) & 0xff;

describe('a 1 GiB blob upload streams through without being held in memory', () => {
  let upstream: TestUpstream;
  let upstreamHash = '';
  let upstreamBytes = 0;

  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build the proxy first (cd packages/proxy && npx tsup)`);
    upstream = await startTestUpstream(
      (req, res) => {
        // Ollama's POST /api/blobs/:digest: reads the whole body, answers 201 Created.
        const hash = createHash('sha256');
        req.on('data', (chunk: Buffer) => {
          upstreamBytes += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => {
          upstreamHash = hash.digest('hex');
          res.writeHead(201, { 'Content-Length': '0' });
          res.end();
        });
      },
      { streamBody: true },
    );
  });
  afterAll(() => upstream.close());

  it('1 GiB reaches Ollama intact, 201 comes back, and the proxy grows by less than 64 MiB', async () => {
    const child = fork(CHILD, [upstream.url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      let peakRss = 0;
      const ready = new Promise<{ url: string; rss: number }>((resolve, reject) => {
        child.on('message', (message: { url?: string; rss: number }) => {
          peakRss = Math.max(peakRss, message.rss);
          if (message.url !== undefined) resolve({ url: message.url, rss: message.rss });
        });
        child.once('exit', (code) => reject(new Error(`proxy child exited with ${code}`)));
      });
      const { url } = await ready;
      // A few requests first, so the baseline includes a warmed-up proxy (JIT, pools, buffers).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const baseline = peakRss;
      peakRss = 0;

      const clientHash = createHash('sha256');
      const target = new URL(url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: `/api/blobs/sha256:${'0'.repeat(64)}`,
            method: 'POST',
            headers: { 'Content-Length': String(GIB), 'Content-Type': 'application/octet-stream' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        let sent = 0;
        const pump = (): void => {
          while (sent < GIB) {
            sent += CHUNK.length;
            clientHash.update(CHUNK);
            if (!req.write(CHUNK)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      expect(status).toBe(201);
      expect(upstreamBytes).toBe(GIB);
      expect(upstreamHash).toBe(clientHash.digest('hex'));
      expect(peakRss - baseline).toBeLessThan(64 * 1024 * 1024);
    } finally {
      child.send('close');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 120_000);
});
