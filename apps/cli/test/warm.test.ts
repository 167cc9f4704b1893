import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unusedPort } from '@tinyllm/redis-harness';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const fx = useCliFixture({ latencyMs: 10 });

const LINES = [
  'What is a cache?',
  '{"prompt": "Explain TTLs", "temperature": 0}',
  '{"prompt": "broken", ',
  '',
  '{"messages": [{"role": "user", "content": "Hi there"}], "system": "Be kind."}',
  '{"model": "no-such-model", "prompt": "404 me"}',
  '{"promt": "typo"}',
];

describe('tinyllm warm', () => {
  it('warms the good lines, reports the bad ones by line number and exits 1', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'warm.sqlite'));
    const file = join(fx.dir, 'requests.jsonl');
    writeFileSync(file, `${LINES.join('\n')}\n`);
    const before = fx.fake.modelCalls();

    const result = await runCli(['warm', file, '--concurrency', '2'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^warmed 3 · already cached 0 · failed 3 \(6 requests in .+\)$/m);
    expect(result.stdout).toMatch(/^ {2}line 3: invalid JSON: /m);
    expect(result.stdout).toMatch(/^ {2}line 6: model "no-such-model" not found.*ollama pull no-such-model/m);
    expect(result.stdout).toMatch(/^ {2}line 7: unknown field "promt"$/m);
    // The 404 counts as a model call too.
    expect(fx.fake.modelCalls() - before).toBe(4);

    // The good lines are now hits, through run and through warm.
    const hit = await runCli(['run', 'What is a cache?'], { env });
    expect(hit.stderr).toContain('cache hit');
    const chatHit = await runCli(['run', '--temperature', '0', 'Explain TTLs'], { env });
    expect(chatHit.stderr).toContain('cache hit');
    const good = join(fx.dir, 'good.jsonl');
    writeFileSync(good, [LINES[0], LINES[1], LINES[4]].join('\n'));
    const again = await runCli(['warm', good, '--output', 'json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 3, warmed: 0, alreadyCached: 3, failed: 0, failures: [] });
    expect(fx.fake.modelCalls() - before).toBe(4);
  });

  it('reads stdin with "-" and prints a JSON summary', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'stdin.sqlite'));
    const input = ['one', 'two', 'two', '{"prompt": "three", "max_tokens": 3, "json": true}', 'not json {'].join('\n');
    const result = await runCli(['warm', '-', '--output', 'json'], { env, input });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { total: number; warmed: number; alreadyCached: number; failed: number };
    expect(summary.total).toBe(5);
    expect(summary.failed).toBe(0);
    // "two" twice: one warms it, the other finds it cached (or shares the in-flight call).
    expect(summary.warmed + summary.alreadyCached).toBe(5);
    expect(summary.warmed).toBe(4);
    const sent = fx.fake.requests.find((r) => (r.body as { prompt?: string }).prompt === 'three')?.body;
    expect(sent).toMatchObject({ format: 'json', options: { num_predict: 3 } });
  });

  it('draws a progress bar on a terminal only', async () => {
    const input = 'bar one\nbar two\n';
    const piped = await runCli(['warm', '-'], { env: envFor(fx.fake.url, join(fx.dir, 'bar1.sqlite')), input });
    expect(piped.stderr).not.toContain('warming');
    const tty = await runCli(['warm', '-'], { env: { ...envFor(fx.fake.url, join(fx.dir, 'bar2.sqlite')), TINYLLM_TTY: '1' }, input });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('warming');
    expect(tty.stderr).toContain('2/2');
  });

  it('a file that does not exist is a runtime failure', async () => {
    const result = await runCli(['warm', join(fx.dir, 'nope.txt')], { env: envFor(fx.fake.url, join(fx.dir, 'x.sqlite')) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no such file');
  });

  it('refuses --no-cache (exit 2)', async () => {
    const result = await runCli(['warm', '--no-cache', '-'], { env: envFor(fx.fake.url, join(fx.dir, 'y.sqlite')), input: 'hi' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-cache');
  });

  it('stops early when Ollama is unreachable, failing every line', async () => {
    const env = { ...envFor('http://127.0.0.1:9', join(fx.dir, 'down.sqlite')) };
    const result = await runCli(['warm', '-', '--concurrency', '1'], { env, input: 'a\nb\nc\n' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('failed 3');
    expect(result.stdout).toContain('line 1: cannot reach Ollama at http://127.0.0.1:9');
    expect(result.stdout).toContain('lines 2-3 (2 lines): not tried: cannot reach Ollama');
  });

  it('ignores a UTF-8 byte order mark at the start of the file', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'bom.sqlite'));
    const file = join(fx.dir, 'bom.txt');
    writeFileSync(file, '\uFEFFbom first prompt\n{"prompt": "second"}\n');
    const before = fx.fake.requests.length;
    const result = await runCli(['warm', file, '--output', 'json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ total: 2, warmed: 2, failed: 0 });
    const prompts = fx.fake.requests.slice(before).map((r) => (r.body as { prompt?: string }).prompt);
    expect(prompts).toContain('bom first prompt');
    // The BOM was not part of the key: run finds the answer.
    expect((await runCli(['run', 'bom first prompt'], { env })).stderr).toContain('cache hit');
    // A JSON first line behind a BOM parses too.
    writeFileSync(file, '\uFEFF{"prompt": "bom json"}\n');
    const json = await runCli(['warm', file, '--output', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, warmed: 1, failed: 0 });
  });

  it('--output json prints the summary even when the store is unavailable (exit 1)', async () => {
    const port = await unusedPort();
    const env = { ...envFor(fx.fake.url, join(fx.dir, 'unused.sqlite')), TINYLLM_CACHE_BACKEND: 'redis', TINYLLM_REDIS_PORT: String(port) };
    const before = fx.fake.modelCalls();
    const result = await runCli(['warm', '-', '--output', 'json'], { env, input: 'one\n{"bad json\ntwo\n' });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as {
      total: number;
      warmed: number;
      failed: number;
      failures: Array<{ line: number; reason: string }>;
      error: string;
    };
    expect(summary).toMatchObject({ total: 3, warmed: 0, alreadyCached: 0, failed: 3 });
    expect(summary.error).toContain(`cannot reach Redis at 127.0.0.1:${port}`);
    expect(summary.failures.map((f) => f.line)).toEqual([1, 2, 3]);
    expect(summary.failures[0]?.reason).toBe('not tried: the cache store is not available');
    expect(summary.failures[1]?.reason).toMatch(/^invalid JSON/);
    expect(result.stderr).toContain('nothing warmed: cannot reach Redis');
    expect(fx.fake.modelCalls()).toBe(before);
    // Text mode: the reason on stderr, nothing on stdout.
    const text = await runCli(['warm', '-'], { env, input: 'one\n' });
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`nothing warmed: cannot reach Redis at 127.0.0.1:${port} (connection refused)`);
  });
});
