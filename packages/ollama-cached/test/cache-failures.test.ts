import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceBackend, ResponseCache } from '@tinyllm/cache-core';
import { describe, expect, it } from 'vitest';
import { STORED_RESPONSE_VERSION } from '../src/engine/index.js';
import { CachedOllamaClient, cacheInfo, createCachedClient, OllamaClient, type OllamaResponseCache } from '../src/index.js';
import { collect, fakeServer, MODEL, onCleanup, setup, sleep, VISION_MODEL } from './helpers.js';

describe('a failing cache costs the caching, never the answer', () => {
  it('calls in flight when close() runs still get their answers', async () => {
    const server = await fakeServer({ latencyMs: 100, tokensPerSecond: 50 });
    const client = createCachedClient({ host: server.url });
    const request = { model: MODEL, prompt: 'closing while in flight' };
    const leader = client.generate({ ...request, stream: true });
    const joiners = [client.generate(request), client.generate(request)];
    await sleep(20);
    const closing = client.close();
    const outcomes = await Promise.allSettled([leader.then(collect), ...joiners]);
    await closing;
    for (const outcome of outcomes.slice(1)) {
      expect(outcome.status).toBe('fulfilled');
      expect((outcome as PromiseFulfilledResult<{ response: string }>).value.response.length).toBeGreaterThan(0);
    }
    // After close the client still answers, straight from the model.
    const after = await client.generate(request);
    expect(cacheInfo(after)?.status).toBe('bypass');
  });

  it('close() stops a stream still waiting for its headers instead of waiting for it', async () => {
    const server = await fakeServer({ latencyMs: 2_000 });
    const client = createCachedClient({ host: server.url });
    const stream = client.generate({ model: MODEL, prompt: 'slow headers', stream: true });
    stream.catch(() => {});
    await sleep(50);
    const closed = await Promise.race([client.close().then(() => 'closed'), sleep(1_000).then(() => 'waited')]);
    expect(closed).toBe('closed');
  });

  it('a stored record of a foreign shape is a miss, not a TypeError', async () => {
    const { server } = await setup();
    const store = new Map<string, string>();
    const shared = new ResponseCache({ backend: new ReferenceBackend({ store }) });
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: new ReferenceBackend({ store }) });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'foreign record' };
    const key = shared.generateCacheKey(request, { endpoint: 'generate' });
    await shared.set(key, { something: 'else entirely' });
    const answer = await client.generate(request);
    expect(answer.response?.length).toBeGreaterThan(0);
    expect(server.modelCalls()).toBe(1);
    expect((await client.getStats()).cache.errors).toBe(1);
    // A cache passed in without validation is guarded too.
    await shared.set(key, { v: 2, what: 'a future format' });
    const unguarded = new CachedOllamaClient({
      client: new OllamaClient({ host: server.url }),
      cache: shared as unknown as OllamaResponseCache,
      ownsCache: false,
    });
    expect((await unguarded.generate(request)).response).toBe(answer.response);
    expect((await unguarded.getStats()).cache.errors).toBe(1);
    // ...and the unreadable record was replaced by the fresh answer.
    await unguarded.flush();
    expect(cacheInfo(await unguarded.generate(request))?.status).toBe('hit');
    expect(server.modelCalls()).toBe(2);
  });

  it('a well-formed record of another endpoint under a key is a miss for this one (the light per-call rule)', async () => {
    const { server } = await setup();
    const store = new Map<string, string>();
    const shared = new ResponseCache({ backend: new ReferenceBackend({ store }) });
    const client = new CachedOllamaClient({ client: new OllamaClient({ host: server.url }), cache: new ReferenceBackend({ store }) });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'a chat record under a generate key' };
    const key = shared.generateCacheKey(request, { endpoint: 'generate' });
    const chatAnswer = { model: MODEL, created_at: '2025-01-01T00:00:00Z', message: { role: 'assistant', content: 'not yours' }, done: true };
    await shared.set(key, { v: STORED_RESPONSE_VERSION, endpoint: 'chat', response: chatAnswer });
    const answer = await client.generate(request);
    expect(typeof answer.response).toBe('string');
    expect(cacheInfo(answer)?.status).toBe('miss');
    expect(server.modelCalls()).toBe(1);
    expect((await client.getStats()).cache.errors).toBe(1);
  });

  it('a SQLite store that cannot be opened: answers come from the model, the failure is counted and logged once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-cached-corrupt-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const sqlitePath = join(dir, 'cache.sqlite');
    writeFileSync(sqlitePath, 'this is not a database, just text long enough to look like a file header........');
    const server = await fakeServer();
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (context: Record<string, unknown>) => errors.push(context) };
    const client = createCachedClient({ host: server.url, backend: 'sqlite', sqlitePath, logger });
    onCleanup(() => client.close());
    const first = await client.generate({ model: MODEL, prompt: 'corrupt store' });
    const second = await client.generate({ model: MODEL, prompt: 'corrupt store' });
    expect(second.response).toBe(first.response);
    expect(server.modelCalls()).toBe(2);
    expect((await client.getStats()).client.cacheFailures).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('ArrayBuffer images are keyed by their bytes', async () => {
    const { server, client } = await setup();
    const a = new Uint8Array([1, 2, 3, 4]).buffer;
    const b = new Uint8Array([5, 6, 7, 8]).buffer;
    // Images need a vision model: the fake, like Ollama, refuses them elsewhere.
    await client.generate({ model: VISION_MODEL, prompt: 'describe', images: [a as unknown as Uint8Array] });
    const other = await client.generate({ model: VISION_MODEL, prompt: 'describe', images: [b as unknown as Uint8Array] });
    expect(cacheInfo(other)?.status).toBe('miss');
    expect(server.modelCalls()).toBe(2);
  });

  it('a stream that stalls after its first chunk fails with a timeout instead of hanging its waiters', async () => {
    // A server that sends the headers and one chunk, then goes silent.
    const sockets = new Set<import('node:net').Socket>();
    const stalling = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      response.write(`${JSON.stringify({ model: MODEL, created_at: new Date().toISOString(), response: 'Hello', done: false })}\n`);
    });
    stalling.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    onCleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalling.close(resolve));
    });
    const { port } = stalling.address() as { port: number };
    const client = createCachedClient({ host: `http://127.0.0.1:${port}`, timeoutMs: 300, maxRetries: 0 });
    onCleanup(() => client.close());
    const request = { model: MODEL, prompt: 'stall after the first chunk' };
    const stream = await client.generate({ ...request, stream: true });
    const waiter = client.generate(request);
    const streamError = await collect(stream).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(streamError).toMatchObject({ code: 'TINYLLM_OLLAMA_TIMEOUT' });
    await expect(waiter).rejects.toMatchObject({ code: 'TINYLLM_OLLAMA_TIMEOUT' });
  });
});
