import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterEach } from 'vitest';
import { type CachedOllamaClient, type CreateCachedClientOptions, createCachedClient } from '../src/index.js';

/** The model every test asks (known to the fake server). */
export const MODEL = 'qwen2.5:0.5b';

/** A model of the fake's that thinks (qwen2.5, like in Ollama, refuses `think`). */
export const THINKING_MODEL = 'qwen3:0.6b';

/** A model of the fake's that takes images. */
export const VISION_MODEL = 'llava:7b';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Runs fn after the current test. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** A fake Ollama server, closed after the test. */
export async function fakeServer(options: Parameters<typeof startFakeOllama>[0] = {}): Promise<FakeOllamaServer> {
  const server = await startFakeOllama(options);
  onCleanup(() => server.close());
  return server;
}

/** A fake server plus a cached client pointed at it (fast retries), both closed after the test. */
export async function setup(
  options: CreateCachedClientOptions = {},
  serverOptions: Parameters<typeof startFakeOllama>[0] = {},
): Promise<{ server: FakeOllamaServer; client: CachedOllamaClient }> {
  const server = await fakeServer(serverOptions);
  const client = createCachedClient({ host: server.url, retryDelayMs: 1, ...options });
  onCleanup(() => client.close());
  return { server, client };
}

/** Reads a stream to the end. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

/** Reads a stream and returns the error it throws (fails when it does not throw). */
export async function collectError(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of stream) {
      // drain
    }
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to throw');
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
