import { fakeAnswer } from '@tinyllm/fake-ollama';
import { Ollama } from 'ollama';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CachedOllamaClient, cacheInfo, OllamaHttpError, OllamaStreamError } from '../src/index.js';
import { collect, collectError, fakeServer, MODEL, onCleanup, VISION_MODEL } from './helpers.js';

// Code written against the official client accepts the cached one.
async function askWithOfficialType(ollama: Ollama, prompt: string): Promise<string> {
  const answer = await ollama.generate({ model: MODEL, prompt });
  return answer.response ?? '';
}

describe('wrapping the official ollama client', () => {
  it('caches through a plain Ollama instance and passes instanceof Ollama', async () => {
    const server = await fakeServer();
    const client = new CachedOllamaClient({ client: new Ollama({ host: server.url }) });
    onCleanup(() => client.close());
    expect(client).toBeInstanceOf(Ollama);
    expectTypeOf(client).toMatchTypeOf<Ollama>();
    const first = await askWithOfficialType(client, 'official');
    const second = await askWithOfficialType(client, 'official');
    expect(first).toBe(fakeAnswer({ model: MODEL, prompt: 'official' }).text);
    expect(second).toBe(first);
    expect(server.modelCalls()).toBe(1);
    const stream = await client.generate({ model: MODEL, prompt: 'official stream', stream: true });
    expectTypeOf(stream.abort).toBeFunction();
    expect((await collect(stream)).map((c) => c.response).join('')).toBe(fakeAnswer({ model: MODEL, prompt: 'official stream' }).text);
    expect(server.modelCalls()).toBe(2);
  });

  it('delegates the other methods to the inner client', async () => {
    const server = await fakeServer();
    const client = new CachedOllamaClient({ client: new Ollama({ host: server.url }) });
    onCleanup(() => client.close());
    expect((await client.list()).models.map((m) => m.name)).toContain(MODEL);
    expect((await client.version()).version).toBeTypeOf('string');
    expect((await client.show({ model: MODEL })).capabilities).toContain('completion');
    expect(client.host).toBe(server.url);
    expect(await client.encodeImage(new Uint8Array([1, 2, 3]))).toBe('AQID');
  });

  it("translates the official client's errors into typed ones", async () => {
    const server = await fakeServer();
    const client = new CachedOllamaClient({ client: new Ollama({ host: server.url }) });
    onCleanup(() => client.close());
    const error = await client.generate({ model: 'nope', prompt: 'x' }).catch((e: unknown) => e);
    expect(OllamaHttpError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 404 });
    server.failNext({ kind: 'midstream' });
    const streamError = await collectError(await client.generate({ model: MODEL, prompt: 'mid', stream: true }));
    expect(OllamaStreamError.isInstance(streamError)).toBe(true);
    const next = await client.generate({ model: MODEL, prompt: 'mid' });
    expect(cacheInfo(next)?.status).toBe('miss');
  });

  it('hashes image bytes: a file path and its base64 share an entry', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ollama-cached-img-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const bytes = Buffer.from('not really a png, but bytes');
    const path = join(dir, 'image.png');
    writeFileSync(path, bytes);
    const server = await fakeServer();
    const client = new CachedOllamaClient({ client: new Ollama({ host: server.url }) });
    onCleanup(() => client.close());
    const request = { model: VISION_MODEL, prompt: 'describe', images: [path] };
    await client.generate(request);
    const fromBase64 = await client.generate({ model: VISION_MODEL, prompt: 'describe', images: [bytes.toString('base64')] });
    const fromBytes = await client.generate({ model: VISION_MODEL, prompt: 'describe', images: [new Uint8Array(bytes)] });
    expect(cacheInfo(fromBase64)?.status).toBe('hit');
    expect(cacheInfo(fromBytes)?.status).toBe('hit');
    expect(server.modelCalls()).toBe(1);
    expect(request.images).toEqual([path]); // the caller's request is untouched
    expect(server.requests[0]?.body).toMatchObject({ images: [bytes.toString('base64')] });
  });
});
