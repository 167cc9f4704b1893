import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { callUpstream } from './upstream-call.js';

let server: Server | undefined;
let pool: Pool | undefined;

afterEach(async () => {
  await pool?.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = pool = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Pool> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return pool;
}

const request = { path: '/api/generate', headers: ['content-type', 'application/json'], body: Buffer.from('{"model":"m"}') };

describe('callUpstream: one engine call through the dispatch API', () => {
  it('gives the status and headers, then the body in order; a reader that falls behind pauses the upstream', async () => {
    const pieceBytes = 64 * 1024;
    const pieces = 512; // 32 MiB: far more than the socket buffers hold
    let sent = 0;
    const upstream = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const more = (): void => {
        while (sent < pieces) {
          const piece = Buffer.alloc(pieceBytes, sent % 256);
          sent++;
          if (!res.write(piece)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    let settled = 0;
    const response = await callUpstream(upstream, request, new AbortController().signal, () => settled++);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const parts: Buffer[] = [];
    let checked = false;
    for await (const part of response.body) {
      parts.push(part);
      if (!checked) {
        checked = true;
        // Without the pause, undici would read the whole answer into memory meanwhile.
        await sleep(300);
        expect(sent).toBeLessThan(pieces);
      }
    }
    const body = Buffer.concat(parts);
    expect(body.length).toBe(pieces * pieceBytes);
    for (let i = 0; i < pieces; i++) expect(body[i * pieceBytes]).toBe(i % 256);
    expect(settled).toBe(1);
  });

  it('readAll returns the body; beyond its limit it stops the call', async () => {
    let closed: Promise<void> = Promise.resolve();
    const upstream = await serve((req, res) => {
      req.resume();
      res.writeHead(500);
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 120)), 1);
      res.once('close', () => clearInterval(timer));
    });
    const response = await callUpstream(upstream, request, new AbortController().signal);
    const body = await response.body.readAll(4 * 1024);
    expect(body.length).toBeGreaterThan(4 * 1024);
    await closed;
  });

  it('a signal that aborts before the answer rejects with its reason; one that aborts mid-body fails the reader', async () => {
    const upstream = await serve((req, res) => {
      req.resume();
      if (req.headers['x-stage'] === 'body') {
        res.writeHead(200);
        res.write('{"a":1}\n');
      }
      // Otherwise never answers.
    });
    const early = new AbortController();
    const pending = callUpstream(upstream, request, early.signal);
    await sleep(20);
    early.abort(new Error('the client went away'));
    await expect(pending).rejects.toThrow('the client went away');

    const late = new AbortController();
    let settled = 0;
    const response = await callUpstream(upstream, { ...request, headers: ['x-stage', 'body'] }, late.signal, () => settled++);
    const reading = (async () => {
      for await (const _ of response.body) late.abort(new Error('stopped mid-answer'));
    })();
    await expect(reading).rejects.toThrow('stopped mid-answer');
    expect(settled).toBe(1);
  });

  it('an unreachable upstream rejects before any answer', async () => {
    const unreachable = new Pool('http://127.0.0.1:9', { connect: { timeout: 1_000 } });
    try {
      await expect(callUpstream(unreachable, request, new AbortController().signal)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await unreachable.destroy();
    }
  });
});
