import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from './helpers.js';

// The root README's "As a server" section must work as written: its curl lines and its TypeScript
// example (a ```typescript block, so the library examples' test leaves it alone) run against a
// live proxy, with the README's address replaced by the test proxy's.
const run = promisify(execFile);
const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const section = README.slice(README.indexOf('### As a server'), README.indexOf('### As a library'));
const curlLines = section
  .split('\n')
  .filter((line) => line.startsWith('curl '))
  .map((line) => line.trim());
const example = /```typescript\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const shellWords = (line: string): string[] => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string);
const workDir = fileURLToPath(new URL('./.readme-examples/', import.meta.url));

describe("the root README's server section, against a live proxy", () => {
  const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}), cacheLocation: 'this process' });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('has curl lines and an openai example', () => {
    expect(curlLines.length).toBeGreaterThanOrEqual(5);
    expect(example).toContain("from 'openai'");
  });

  it('the curl lines: a miss, then the same request as a hit, streaming chat, /v1, a refresh and the stats', async () => {
    const outputs: string[] = [];
    for (const line of curlLines) {
      const [, ...args] = shellWords(line.replaceAll('http://127.0.0.1:11435', stack.proxy.url));
      outputs.push((await run('curl', ['--fail', '--max-time', '20', ...args])).stdout);
    }
    const [generate, headers, chat, v1, refreshed, stats] = outputs as [string, string, string, string, string, string];
    expect(JSON.parse(generate)).toMatchObject({ done: true });
    expect(headers).toMatch(/^X-Cache: HIT\r$/m);
    expect(headers).toMatch(/^Age: \d+\r$/m);
    expect(chat.trim().split('\n').length).toBeGreaterThan(2);
    expect(JSON.parse(v1)).toMatchObject({ object: 'chat.completion' });
    expect(JSON.parse(refreshed).response).toBe(JSON.parse(generate).response);
    expect(JSON.parse(stats)).toMatchObject({ backend: 'memory', hits: 1 });
    expect(stack.fake.modelCalls()).toBe(4);
  });

  it('the openai SDK example: a miss, then a hit with the same answer', async () => {
    mkdirSync(workDir, { recursive: true });
    const file = join(workDir, 'server-example.ts');
    writeFileSync(file, example.replaceAll('http://127.0.0.1:11435', stack.proxy.url));
    const log = console.log;
    const printed: string[] = [];
    console.log = (...args: unknown[]) => printed.push(args.map(String).join(' '));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      console.log = log;
    }
    expect(printed).toHaveLength(2);
    const [first, second] = printed as [string, string];
    expect(first).toMatch(/^1 MISS \S/);
    expect(second).toMatch(/^2 HIT \S/);
    expect(second.slice('2 HIT '.length)).toBe(first.slice('1 MISS '.length));
  });
});
