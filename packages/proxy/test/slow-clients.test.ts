import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

/** Opens a raw connection, writes `text`, and resolves with what the server sent and how long until it closed the connection. */
function rawExchange(url: string, text: string, giveUpMs: number): Promise<{ received: string; closedAfterMs: number | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedAfterMs: undefined });
    }, giveUpMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedAfterMs: performance.now() - started });
    });
    socket.write(text);
  });
}

describe('slow clients are cut; slow answers never are', () => {
  const stack = useStack({ latencyMs: 1500 }, { headersTimeoutMs: 400, requestIdleTimeoutMs: 400 });

  it('a client that never finishes its headers gets 408 and the connection closed', async () => {
    const { received, closedAfterMs } = await rawExchange(stack.proxy.url, 'GET /api/tags HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(closedAfterMs).toBeDefined();
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that stops sending its body has its connection closed; the request never reaches Ollama', async () => {
    const before = stack.fake.modelCalls();
    const { closedAfterMs } = await rawExchange(
      stack.proxy.url,
      'POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"model":',
      5000,
    );
    expect(closedAfterMs).toBeDefined();
    expect(stack.fake.modelCalls()).toBe(before);
  });

  it('a stalled upload on a pass-through route is cut the same way', async () => {
    const { received, closedAfterMs } = await rawExchange(
      stack.proxy.url,
      'POST /api/show HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{"model":',
      5000,
    );
    expect(closedAfterMs).toBeDefined();
    expect(received).toBe('');
  });

  it('when Ollama answers before the upload is complete, the connection closes after the answer', async () => {
    const { received, closedAfterMs } = await rawExchange(
      stack.proxy.url,
      'POST /no/such/route HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc',
      5000,
    );
    expect(received).toMatch(/^HTTP\/1\.1 404/);
    expect(received).toMatch(/\r\nConnection: close\r\n/i);
    expect(closedAfterMs).toBeDefined();
  });

  it('an answer that takes longer than every client timeout still arrives (Ollama sends nothing until it is done)', async () => {
    const reply = await send(stack.proxy.url, '/api/generate', { method: 'POST', body: '{"model":"qwen2.5:0.5b","prompt":"slow","stream":false}' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ done: true });
  });

  it('a streamed answer slower than the timeouts is not cut either', async () => {
    const reply = await send(stack.proxy.url, '/api/chat', { method: 'POST', body: '{"model":"qwen2.5:0.5b","messages":[{"role":"user","content":"slow"}]}' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text.trim().split('\n').at(-1) as string)).toMatchObject({ done: true });
  });
});
