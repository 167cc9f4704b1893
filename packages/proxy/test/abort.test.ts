import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../src/index.js';
import { startTestUpstream, type TestUpstream, waitFor } from './helpers.js';

describe('a client that goes away aborts the upstream request', () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  const closedEarly: string[] = [];

  beforeAll(async () => {
    upstream = await startTestUpstream(
      (req, res) => {
        // An endless slow stream (a long generation): it only ends when the connection goes.
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        const timer = setInterval(() => res.write('{"response":"x","done":false}\n'), 30);
        res.on('close', () => {
          clearInterval(timer);
          if (!res.writableFinished) closedEarly.push(req.url ?? '');
        });
        if (req.url === '/api/blobs/upload') req.resume();
      },
      { streamBody: true },
    );
    proxy = await startProxy({ port: 0, upstream: upstream.url, processMetrics: false });
  });
  afterAll(async () => {
    await proxy.close({ graceMs: 0 });
    await upstream.close();
  });

  function readThenHangUp(path: string, method: string, body?: string): Promise<void> {
    const url = new URL(proxy.url);
    return new Promise<void>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method, headers: body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.on('close', resolve);
      setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
      req.end(body);
    });
  }

  it('on a pass-through route', async () => {
    const before = proxy.counters.clientAborts;
    await readThenHangUp('/api/pull', 'POST', '{"model":"x"}');
    await waitFor(() => closedEarly.includes('/api/pull'), 5000, 'the upstream request to be aborted');
    await waitFor(() => proxy.counters.clientAborts === before + 1, 2000, 'the abort to be counted');
  });

  it('on a cached route (default hook)', async () => {
    await readThenHangUp('/api/generate', 'POST', '{"model":"qwen2.5:0.5b","prompt":"long"}');
    await waitFor(() => closedEarly.includes('/api/generate'), 5000, 'the upstream request to be aborted');
  });

  it('in the middle of an upload', async () => {
    const url = new URL(proxy.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: '/api/blobs/upload',
      method: 'POST',
      headers: { 'Content-Length': String(10 * 1024 * 1024) },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(256 * 1024));
    await waitFor(() => upstream.received.some((r) => r.url === '/api/blobs/upload'), 5000, 'the upload to reach the upstream');
    req.destroy();
    await waitFor(() => closedEarly.includes('/api/blobs/upload'), 5000, 'the upstream upload to be aborted');
    expect(proxy.counters.inFlight).toBe(0);
  });
});
