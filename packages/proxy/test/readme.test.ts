import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ResponseCache } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { describe, expect, it } from 'vitest';
import { useStack } from './helpers.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The curl lines of the README's "As a server" section. */
function curlLines(): string[] {
  const section = README.slice(README.indexOf('## As a server'), README.indexOf('## As a library'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('curl '))
    .map((line) => line.trim());
}

/** Splits a shell line into arguments (single quotes only, as the README uses). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string);
}

describe("the README's curl examples, against a live proxy", () => {
  const stack = useStack({}, { cache: new ResponseCache({ backend: new MemoryBackend() }), cacheLocation: 'this process' });

  it('has examples to run', () => {
    expect(curlLines().length).toBeGreaterThanOrEqual(4);
  });

  it.each(curlLines())('%s', async (line) => {
    const [, ...args] = shellWords(line.replaceAll('http://127.0.0.1:11435', stack.proxy.url));
    const { stdout } = await run('curl', ['--fail', '--max-time', '20', ...args]);
    expect(stdout.length).toBeGreaterThan(0);
    if (line.includes('/api/generate')) expect(JSON.parse(stdout)).toMatchObject({ done: true });
    if (line.includes('-D -')) expect(stdout).toMatch(/^X-Cache: (MISS|HIT)\r$/m);
    if (line.includes('/tinyllm/stats')) expect(JSON.parse(stdout)).toMatchObject({ backend: 'memory', location: 'this process' });
    if (line.includes('/tinyllm/metrics')) expect(stdout).toContain('# TYPE tinyllm_proxy_requests_total counter');
  });
});
