import { createHash } from 'node:crypto';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

// The fake models Ollama's management routes (pull, push, create, delete, copy, ps, blobs); a
// pass-through proxy must carry every one of them as Ollama answers it.
describe("Ollama's management routes through the proxy", () => {
  const stack = useStack({ pullIntervalMs: 100 });

  it('pull: the official client sees each progress line as it comes, not all at the end', async () => {
    const client = new Ollama({ host: stack.proxy.url });
    const arrivals: Array<{ status: string; at: number }> = [];
    for await (const progress of await client.pull({ model: 'tinyllama:latest', stream: true })) {
      arrivals.push({ status: progress.status, at: performance.now() });
    }
    expect(arrivals.at(-1)?.status).toBe('success');
    expect(arrivals[0]?.status).toBe('pulling manifest');
    expect(arrivals.length).toBeGreaterThan(4);
    // At 100 ms between lines, the first line arrived long before the last.
    expect((arrivals.at(-1)?.at as number) - (arrivals[0]?.at as number)).toBeGreaterThan(300);
    expect((await client.list()).models.some((m) => m.name === 'tinyllama:latest')).toBe(true);
  });

  it('ps, copy and delete (a DELETE with a JSON body) behave as against Ollama', async () => {
    const client = new Ollama({ host: stack.proxy.url });
    await client.generate({ model: 'qwen2.5:0.5b', prompt: 'load me' });
    const ps = await client.ps();
    expect(ps.models.map((m) => m.name)).toContain('qwen2.5:0.5b');
    await client.copy({ source: 'qwen2.5:0.5b', destination: 'copied:latest' });
    expect((await client.list()).models.some((m) => m.name === 'copied:latest')).toBe(true);
    const deleted = await send(stack.proxy.url, '/api/delete', {
      method: 'DELETE',
      headers: { 'Content-Type': 'application/json' },
      body: '{"model":"copied:latest"}',
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body.length).toBe(0);
    expect((await client.list()).models.some((m) => m.name === 'copied:latest')).toBe(false);
    const missing = await send(stack.proxy.url, '/api/delete', { method: 'DELETE', body: '{"model":"copied:latest"}' });
    expect(missing.status).toBe(404);
  });

  it('blobs: HEAD 404, POST 201, HEAD 200, a wrong digest 400', async () => {
    const blob = Buffer.from('GGUF fake weights '.repeat(1000));
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    expect((await send(stack.proxy.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    expect((await send(stack.proxy.url, `/api/blobs/${digest}`, { method: 'POST', body: blob })).status).toBe(201);
    expect((await send(stack.proxy.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    const wrong = await send(stack.proxy.url, `/api/blobs/sha256:${'0'.repeat(64)}`, { method: 'POST', body: blob });
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.text).error).toContain('digest mismatch');
  });

  it('/v1 routes pass through for now (the engine will cache them later)', async () => {
    const direct = await send(stack.fake.url, '/v1/models');
    const proxied = await send(stack.proxy.url, '/v1/models');
    expect(proxied.status).toBe(200);
    expect(proxied.text).toBe(direct.text);
    const chat = await send(stack.proxy.url, '/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"model":"qwen2.5:0.5b","messages":[{"role":"user","content":"hi"}]}',
    });
    expect(chat.status).toBe(200);
    expect(JSON.parse(chat.text)).toMatchObject({ object: 'chat.completion' });
  });
});
