import { join } from 'node:path';
import { unusedPort } from '@tinyllm/redis-harness';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// Messages read as sentences: no doubled periods, counts agree with their nouns, and a run that
// lost Ollama says so once rather than once per line it did not try.
const fx = useCliFixture();
let n = 0;
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `wording-${++n}.sqlite`));

describe('wording', () => {
  it('a stream that breaks off: one period between the reason and "Nothing was cached"', async () => {
    fx.fake.failNext({ kind: 'truncate', afterChunks: 2 });
    const result = await runCli(['run', 'cut short'], { env: { ...freshEnv(), TINYLLM_TTY: '1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('broke off: Did not receive done or success response in stream. Nothing was cached; try again.');
    expect(result.stderr).not.toContain('..');
  });

  it('warm of one line says "1 request"', async () => {
    const result = await runCli(['warm', '-'], { env: freshEnv(), input: 'just one\n' });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^warmed 1 · already cached 0 · failed 0 \(1 request in .+\)$/m);
  });

  it('warm without Ollama: the lines not tried are one line of the summary', async () => {
    const port = await unusedPort();
    const env = envFor(`http://127.0.0.1:${port}`, join(fx.dir, 'no-ollama.sqlite'));
    const input = ['a', 'b', '{"broken', 'c', 'd', 'e'].join('\n');
    const result = await runCli(['warm', '-', '--concurrency', '1'], { env, input });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^warmed 0 · already cached 0 · failed 6 \(6 requests in .+\)$/m);
    expect(result.stdout).toContain(`  line 1: cannot reach Ollama at http://127.0.0.1:${port}: is \`ollama serve\` running?`);
    expect(result.stdout).toMatch(/^ {2}line 3: invalid JSON: /m);
    expect(result.stdout).toContain(`  lines 2, 4-6 (4 lines): not tried: cannot reach Ollama at http://127.0.0.1:${port}`);
    expect(result.stdout.split('\n').filter((line) => line.includes('not tried')).length).toBe(1);
    // --output json keeps one entry per line, for scripts.
    const json = JSON.parse((await runCli(['warm', '-', '--concurrency', '1', '--output', 'json'], { env, input })).stdout) as {
      failures: Array<{ line: number; reason: string }>;
    };
    expect(json.failures.map((f) => f.line)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
