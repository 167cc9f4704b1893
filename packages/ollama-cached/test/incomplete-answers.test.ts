import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cacheInfo, createCachedClient, OllamaStreamError } from '../src/index.js';
import { MODEL, onCleanup } from './helpers.js';

// A server that answers every request with one fixed JSON body: a misbehaving or non-Ollama upstream.
async function answering(body: unknown): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, calls: () => calls };
}

// Issue 8 item 2: an answer without done: true is an error, as the streamed case already is, and
// nothing is stored (so nothing can be reported stored).
describe('a whole answer that is not complete is an error, never stored', () => {
  const bodies: Array<[string, unknown]> = [
    ['done: false', { model: MODEL, created_at: '2026-01-01T00:00:00Z', response: 'partial', done: false }],
    ['a non-Ollama JSON body', { hello: 'world' }],
  ];
  for (const [name, body] of bodies) {
    it(`generate answered with ${name}`, async () => {
      const upstream = await answering(body);
      const client = createCachedClient({ host: upstream.url, maxRetries: 0 });
      onCleanup(() => client.close());
      const error = await client.generate({ model: MODEL, prompt: 'incomplete' }).catch((e: unknown) => e);
      expect(OllamaStreamError.isInstance(error)).toBe(true);
      expect((error as OllamaStreamError).reason).toBe('incomplete');
      expect((error as Error).message).toMatch(/incomplete answer.*nothing was cached/);
      await expect(client.generate({ model: MODEL, prompt: 'incomplete' })).rejects.toSatisfy(OllamaStreamError.isInstance);
      expect(upstream.calls()).toBe(2);
      const stats = await client.getStats();
      expect(stats.cache.sets).toBe(0);
      expect(stats.client.upstreamErrors).toBe(2);
    });
  }

  it('embed answered without embeddings', async () => {
    const upstream = await answering({ model: 'nomic-embed-text', nope: true });
    const client = createCachedClient({ host: upstream.url, maxRetries: 0 });
    onCleanup(() => client.close());
    await expect(client.embed({ model: 'nomic-embed-text', input: 'x' })).rejects.toSatisfy(OllamaStreamError.isInstance);
    expect((await client.getStats()).cache.sets).toBe(0);
  });

  it('a complete answer is stored and says so', async () => {
    const upstream = await answering({ model: MODEL, created_at: '2026-01-01T00:00:00Z', response: 'whole', done: true, done_reason: 'stop' });
    const client = createCachedClient({ host: upstream.url });
    onCleanup(() => client.close());
    const answer = await client.generate({ model: MODEL, prompt: 'complete' });
    expect(await cacheInfo(answer)?.stored).toBe(true);
    expect(cacheInfo(await client.generate({ model: MODEL, prompt: 'complete' }))?.status).toBe('hit');
    expect(upstream.calls()).toBe(1);
  });
});
