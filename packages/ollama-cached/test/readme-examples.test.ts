import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeServer } from './helpers.js';

// The root README's TypeScript examples must run as written. Each ```ts block is written to a file
// and imported, with OLLAMA_HOST pointing at the fake Ollama and the cache directory in a temp dir.
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
const workDir = fileURLToPath(new URL('./.readme-examples/', import.meta.url));
const cacheHome = mkdtempSync(join(tmpdir(), 'tinyllm-readme-'));
const saved = { OLLAMA_HOST: process.env.OLLAMA_HOST, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };

/** Runs one README example and returns what it printed with console.log and process.stdout.write. */
async function runExample(index: number): Promise<string> {
  const file = join(workDir, `example-${index}.ts`);
  writeFileSync(file, examples[index] as string);
  let printed = '';
  const log = console.log;
  const write = process.stdout.write;
  console.log = (...args: unknown[]) => {
    printed += `${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`;
  };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    console.log = log;
    process.stdout.write = write;
  }
  return printed;
}

describe('the README examples run as written', () => {
  beforeAll(() => {
    mkdirSync(workDir, { recursive: true });
    process.env.XDG_CACHE_HOME = cacheHome;
  });
  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
    rmSync(cacheHome, { recursive: true, force: true });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it('the library tour: a miss, a hit, the per-call controls and the stats', async () => {
    const server = await fakeServer();
    process.env.OLLAMA_HOST = server.url;
    const printed = await runExample(0);
    expect(printed.split('\n')[0]).toBe('true');
    // The miss, forceRefresh, and the two new prompts reached the model; the hit did not.
    expect(server.modelCalls()).toBe(4);
    expect(printed.split('\n')[1]).toMatch(/^1 4 0\.2 \d+$/);
  });

  it('streaming: the second round is replayed from the cache', async () => {
    const server = await fakeServer();
    process.env.OLLAMA_HOST = server.url;
    const printed = await runExample(1);
    const [first, second] = printed.split(/\n\(round \d\)\n/);
    expect(first?.length).toBeGreaterThan(0);
    expect(second).toBe(first);
    expect(server.modelCalls()).toBe(1);
  });

  it('wrapping the official client with the sqlite store', async () => {
    const server = await fakeServer({ models: ['nomic-embed-text:latest'] });
    process.env.OLLAMA_HOST = server.url;
    expect(await runExample(2)).toBe('2\n');
    expect(server.modelCalls()).toBe(1);
  });

  it('the cache on its own', async () => {
    const printed = await runExample(3);
    expect(printed).toContain('{"response":"{\\"greeting\\":\\"hi\\"}","done":true}');
    expect(printed).toContain('"misses":1');
  });
});
