import { describe, expect, it } from 'vitest';
import { cacheInfo, OllamaHttpError, OllamaStreamError } from '../src/index.js';
import { collect, collectError, MODEL, setup } from './helpers.js';

describe('upstream failures are never cached', () => {
  it('a mid-stream error reaches the caller as OllamaStreamError and is not stored', async () => {
    const { server, client } = await setup();
    server.failNext({ kind: 'midstream', afterChunks: 2 });
    const stream = await client.generate({ model: MODEL, prompt: 'midstream', stream: true });
    const seen: unknown[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of stream) seen.push(chunk);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(seen).toHaveLength(2);
    expect(OllamaStreamError.isInstance(error)).toBe(true);
    expect((error as OllamaStreamError).reason).toBe('error');
    expect((error as Error).message).toMatch(/unexpected EOF/);
    const next = await client.generate({ model: MODEL, prompt: 'midstream' });
    expect(cacheInfo(next)?.status).toBe('miss');
    expect(server.modelCalls()).toBe(2);
  });

  it('a truncated stream (no done) is an OllamaStreamError and is not stored', async () => {
    const { server, client } = await setup();
    server.failNext({ kind: 'truncate', afterChunks: 3 });
    const error = await collectError(await client.generate({ model: MODEL, prompt: 'truncate', stream: true }));
    expect(OllamaStreamError.isInstance(error)).toBe(true);
    expect((error as OllamaStreamError).reason).toBe('incomplete');
    const chunks = await collect(await client.generate({ model: MODEL, prompt: 'truncate', stream: true }));
    expect(chunks[chunks.length - 1]?.done).toBe(true);
    expect(server.modelCalls()).toBe(2);
    expect(cacheInfo(await client.generate({ model: MODEL, prompt: 'truncate' }))?.status).toBe('hit');
  });

  it('a truncated non-streaming body is an error and is not stored', async () => {
    const { server, client } = await setup();
    server.failNext({ kind: 'truncate' });
    await expect(client.generate({ model: MODEL, prompt: 'cut body' })).rejects.toSatisfy(OllamaStreamError.isInstance);
    await client.generate({ model: MODEL, prompt: 'cut body' });
    expect(server.modelCalls()).toBe(2);
  });

  it('a 500 (after the retries) is an OllamaHttpError and is not stored', async () => {
    const { server, client } = await setup({ maxRetries: 1 });
    server.failNext({ kind: 'status', status: 500 }, 2);
    const error = await client.generate({ model: MODEL, prompt: 'five hundred' }).catch((e: unknown) => e);
    expect(OllamaHttpError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      status: 500,
      code: 'TINYLLM_OLLAMA_HTTP',
      message: 'model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details',
    });
    expect(server.modelCalls()).toBe(2);
    const next = await client.generate({ model: MODEL, prompt: 'five hundred' });
    expect(cacheInfo(next)?.status).toBe('miss');
    expect(server.modelCalls()).toBe(3);
    expect((await client.getStats()).client.upstreamErrors).toBe(1);
  });

  it('a streaming request that fails before the first byte rejects the call', async () => {
    const { server, client } = await setup();
    server.failNext({ kind: 'status', status: 404, message: "model 'nope' not found" });
    const error = await client.generate({ model: MODEL, prompt: 'stream 404', stream: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, message: "model 'nope' not found" });
    expect(server.modelCalls()).toBe(1);
  });

  it('identical concurrent callers all see the error of the one failed call', async () => {
    const { server, client } = await setup({ maxRetries: 0 }, { latencyMs: 20 });
    server.failNext({ kind: 'status', status: 503 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.generate({ model: MODEL, prompt: 'busy' })));
    expect(server.modelCalls()).toBe(1);
    for (const r of results) expect(r.status === 'rejected' && OllamaHttpError.isInstance(r.reason) && r.reason.status === 503).toBe(true);
  });

  it('load and unload replies are passed through and never cached', async () => {
    const { server, client } = await setup();
    const load = await client.generate({ model: MODEL, prompt: '' });
    expect(load.done_reason).toBe('load');
    expect(cacheInfo(load)?.status).toBe('bypass');
    await client.generate({ model: MODEL, prompt: '' });
    const unload = await client.chat({ model: MODEL, messages: [], keep_alive: 0 });
    expect(unload.done_reason).toBe('unload');
    expect(server.modelCalls()).toBe(3);
    expect((await client.getStats()).cache.sets).toBe(0);
  });
});
