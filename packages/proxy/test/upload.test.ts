import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepFreedMemoryForReuse, onGlibc } from '../src/freed-memory.js';
import { send } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/proxy-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31 + 7) & 0xff;

describe('a 1 GiB blob upload streams through without being held in memory', () => {
  let fake: FakeOllamaServer;
  let digest = '';

  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build the proxy first (cd packages/proxy && npx tsup)`);
    // The fake hashes the body as it streams in (constant memory) and answers 201 only when the
    // digest in the path matches: Ollama's POST /api/blobs/:digest.
    fake = await startFakeOllama();
    const hash = createHash('sha256');
    for (let sent = 0; sent < GIB; sent += CHUNK.length) hash.update(CHUNK);
    digest = `sha256:${hash.digest('hex')}`;
  });
  afterAll(() => fake.close());

  it('1 GiB reaches Ollama intact (its digest checks), 201 comes back, and the proxy grows by less than 64 MiB', async () => {
    const child = fork(CHILD, [fake.url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

      const target = new URL(url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: `/api/blobs/${digest}`,
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
            if (!req.write(CHUNK)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      // 201: every byte arrived, in order (the fake checked the digest).
      expect(status).toBe(201);
      expect((await send(fake.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
      expect(peakRss - baseline, `peak RSS grew ${((peakRss - baseline) / MIB).toFixed(1)} MiB`).toBeLessThan(64 * MIB);
    } finally {
      child.send('close');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 120_000);

  it('repeated 32 MiB uploads reuse the memory the last ones freed instead of faulting it back in', async () => {
    const child = fork(CHILD, [fake.url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const listening = new Promise<string>((resolve) => child.on('message', (message: { url?: string }) => message.url && resolve(message.url)));
    const ask = <T>(message: string, field: string): Promise<T> =>
      new Promise((resolve) => {
        const onMessage = (reply: Record<string, unknown>): void => {
          if (!(field in reply)) return;
          child.off('message', onMessage);
          resolve(reply[field] as T);
        };
        child.on('message', onMessage);
        child.send(message);
      });
    try {
      const url = new URL(await listening);
      // Only glibc trims this way; elsewhere the function declines (asked here, not in the child, whose
      // state is what the test measures), and that is all there is to check. onGlibc() only asks; its
      // own test checks it against process.report.
      if (!onGlibc()) {
        expect(keepFreedMemoryForReuse()).toBe(false);
        return;
      }
      const body = Buffer.alloc(32 * MIB, 7);
      const faults: number[] = [];
      for (let i = 1; i <= 10; i++) {
        // A blob the fake has not seen, so it reads (and hashes) all of it.
        body.writeUInt32BE(i, 0);
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
        const before = await ask<number>('faults', 'faults');
        // Over the global agent's kept-alive connection, as a client uploading blob after blob does, not
        // helpers' send() (a new connection each time): with that the faults did not show even with
        // the call removed (medians of 3-21), so the test could not fail.
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ host: url.hostname, port: url.port, path: `/api/blobs/${digest}`, method: 'POST' }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        });
        expect(status).toBe(201);
        faults.push((await ask<number>('faults', 'faults')) - before);
      }
      // Without keepFreedMemoryForReuse() glibc hands the freed body buffers back to the kernel and the
      // next upload faults them in again: a median of 2,600-7,100 faults per upload (10-28 MiB) here
      // with the call removed, 3-13 with it; the bound is 512 (2 MiB).
      const settled = faults.slice(5).sort((a, b) => a - b)[2] as number;
      expect(settled, `page faults per upload: ${faults.join(', ')}`).toBeLessThan((32 * MIB) / 4096 / 16);
    } finally {
      child.send('close');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 60_000);
});
