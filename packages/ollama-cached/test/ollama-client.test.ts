import { createServer } from 'node:net';
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatHost,
  OllamaClient,
  OllamaHttpError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
  resolveHost,
  TinyLLMError,
} from '../src/index.js';
import { backoffDelay } from '../src/retry-fetch.js';
import { collectError, fakeServer, MODEL } from './helpers.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const savedHost = process.env.OLLAMA_HOST;
afterEach(() => {
  if (savedHost === undefined) delete process.env.OLLAMA_HOST;
  else process.env.OLLAMA_HOST = savedHost;
});

describe('OllamaClient', () => {
  it('is an Ollama and talks to the server through ollama-js', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url });
    expect(client).toBeInstanceOf(Ollama);
    expect((await client.version()).version).toBeTypeOf('string');
    const answer = await client.generate({ model: MODEL, prompt: 'plain' });
    expect(answer.done).toBe(true);
    const chunks: unknown[] = [];
    for await (const chunk of await client.generate({ model: MODEL, prompt: 'plain', stream: true })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('normalises hosts like ollama-js and reads OLLAMA_HOST', () => {
    expect(formatHost(undefined)).toBe('http://127.0.0.1:11434');
    expect(formatHost('example.com')).toBe('http://example.com:11434');
    expect(formatHost('https://example.com')).toBe('https://example.com:443');
    expect(formatHost('http://example.com/')).toBe('http://example.com:80');
    expect(formatHost(':8080')).toBe('http://127.0.0.1:8080');
    expect(formatHost('http://user:pw@example.com:9000/base/')).toBe('http://user:pw@example.com:9000/base');
    process.env.OLLAMA_HOST = '10.0.0.5:1234';
    expect(resolveHost()).toBe('http://10.0.0.5:1234');
    expect(new OllamaClient().host).toBe('http://10.0.0.5:1234');
    expect(new OllamaClient({ host: 'other' }).host).toBe('http://other:11434');
    delete process.env.OLLAMA_HOST;
    expect(new OllamaClient().host).toBe('http://127.0.0.1:11434');
  });

  it('never retries a 4xx', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, retryDelayMs: 1 });
    const error = await client.generate({ model: 'missing-model', prompt: 'x' }).catch((e: unknown) => e);
    expect(OllamaHttpError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 404, status_code: 404, code: 'TINYLLM_OLLAMA_HTTP', message: "model 'missing-model' not found" });
    expect(TinyLLMError.isInstance(error)).toBe(true);
    expect(server.counts['/api/generate']).toBe(1);
  });

  it('retries a 5xx and succeeds', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, retryDelayMs: 1 });
    server.failNext({ kind: 'status', status: 503 }, 2);
    const answer = await client.generate({ model: MODEL, prompt: 'retry' });
    expect(answer.done).toBe(true);
    expect(server.counts['/api/generate']).toBe(3);
  });

  it('gives up after maxRetries with the last 5xx', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, retryDelayMs: 1, maxRetries: 2 });
    server.failNext({ kind: 'status', status: 500 }, 5);
    await expect(client.generate({ model: MODEL, prompt: 'retry' })).rejects.toMatchObject({ status: 500 });
    expect(server.counts['/api/generate']).toBe(3);
  });

  it('retries a streaming request whose connection is reset before the headers', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, retryDelayMs: 1 });
    server.failNext({ kind: 'reset' });
    const chunks: unknown[] = [];
    for await (const chunk of await client.generate({ model: MODEL, prompt: 'reset', stream: true })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(server.counts['/api/generate']).toBe(2);
  });

  it('never retries once a stream has started', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, retryDelayMs: 1 });
    server.failNext({ kind: 'midstream' });
    const error = await collectError(await client.generate({ model: MODEL, prompt: 'mid', stream: true }));
    expect(OllamaStreamError.isInstance(error)).toBe(true);
    expect(server.counts['/api/generate']).toBe(1);
  });

  it('times out with OllamaTimeoutError (not retried)', async () => {
    const server = await fakeServer();
    const client = new OllamaClient({ host: server.url, timeoutMs: 150, retryDelayMs: 1 });
    server.failNext({ kind: 'hang' });
    const error = await client.generate({ model: MODEL, prompt: 'hang' }).catch((e: unknown) => e);
    expect(OllamaTimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ timeoutMs: 150, code: 'TINYLLM_OLLAMA_TIMEOUT' });
    expect(server.counts['/api/generate']).toBe(1);
  });

  it('bounds only the wait for the headers of a stream', async () => {
    const server = await fakeServer({ tokensPerSecond: 15 });
    const client = new OllamaClient({ host: server.url, timeoutMs: 500 });
    // 12 tokens at 15/s take ~800 ms, longer than the timeout: the stream still completes.
    const chunks: Array<{ done: boolean }> = [];
    for await (const chunk of await client.generate({ model: MODEL, prompt: 'slow stream', stream: true })) chunks.push(chunk);
    expect(chunks[chunks.length - 1]?.done).toBe(true);
    server.failNext({ kind: 'hang' });
    await expect(client.generate({ model: MODEL, prompt: 'hang', stream: true })).rejects.toSatisfy(OllamaTimeoutError.isInstance);
  });

  it('says how to fix an unreachable host', async () => {
    const port = await closedPort();
    const client = new OllamaClient({ host: `http://127.0.0.1:${port}`, retryDelayMs: 1, maxRetries: 1 });
    const error = await client.list().catch((e: unknown) => e);
    expect(OllamaUnreachableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(`cannot reach Ollama at http://127.0.0.1:${port}: is \`ollama serve\` running?`);
    expect((error as Error).cause).toBeDefined();
    expect((error as OllamaUnreachableError).code).toBe('TINYLLM_OLLAMA_UNREACHABLE');
  });

  it('keeps credentials out of error messages', async () => {
    const port = await closedPort();
    const client = new OllamaClient({ host: `http://me:secret@127.0.0.1:${port}`, maxRetries: 0 });
    const error = (await client.list().catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('secret');
  });

  it('backs off exponentially with jitter', () => {
    expect(backoffDelay(0, 200, () => 0)).toBe(100);
    expect(backoffDelay(0, 200, () => 1)).toBe(200);
    expect(backoffDelay(2, 200, () => 1)).toBe(800);
  });
});

describe('OllamaClient options', () => {
  it('a bad number is an InvalidOptionError naming the option, like every other package', () => {
    for (const [option, value] of [
      ['timeoutMs', 0],
      ['maxRetries', -1],
      ['retryDelayMs', Number.NaN],
    ] as const) {
      let caught: unknown;
      try {
        new OllamaClient({ [option]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'TINYLLM_INVALID_OPTION', option });
      expect((caught as Error).message).toContain(option);
    }
  });
});
