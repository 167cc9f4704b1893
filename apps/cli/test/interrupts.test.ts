import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, runCliOnTerminal, useCliFixture } from './helpers.js';

// Ctrl-C ends a command with 130, as a shell reports one that SIGINT ended, and says what it left.
const fx = useCliFixture();
let n = 0;
const freshPath = (): string => join(fx.dir, `interrupt-${++n}.sqlite`);

async function cacheWithOneEntry(): Promise<string> {
  const path = freshPath();
  expect((await runCli(['run', 'keep me'], { env: envFor(fx.fake.url, path) })).code).toBe(0);
  return path;
}

const entriesIn = async (path: string): Promise<number> =>
  (JSON.parse((await runCli(['cache-stats', '--json', '--sqlite-path', path])).stdout) as { entries: number }).entries;

describe('Ctrl-C at the cache-clear prompt', () => {
  it('on a terminal (^C typed at the prompt): exits 130 and removes nothing', async () => {
    const path = await cacheWithOneEntry();
    const result = await runCliOnTerminal(['cache-clear', '--sqlite-path', path], { after: '[y/N]', keys: '\u0003' });
    expect(result.screen).toContain('Remove 1 entry from the sqlite cache');
    expect(result.screen).toContain('interrupted: nothing removed');
    expect(result.code).toBe(130);
    expect(await entriesIn(path)).toBe(1);
  });

  it('"n" on a terminal still cancels with exit 0, and "y" clears', async () => {
    const path = await cacheWithOneEntry();
    const no = await runCliOnTerminal(['cache-clear', '--sqlite-path', path], { after: '[y/N]', keys: 'n\r' });
    expect(no.screen).toContain('cancelled: nothing removed');
    expect(no.code).toBe(0);
    const yes = await runCliOnTerminal(['cache-clear', '--sqlite-path', path], { after: '[y/N]', keys: 'y\r' });
    expect(yes.screen).toContain('removed 1 entry');
    expect(yes.code).toBe(0);
    expect(await entriesIn(path)).toBe(0);
  });

  it('a SIGINT signal while it waits for the answer: the same (exit 130)', async () => {
    const path = await cacheWithOneEntry();
    const result = await runCli(['cache-clear', '--sqlite-path', path], {
      env: { TINYLLM_TTY: '1' },
      holdStdin: true,
      interrupt: { signal: 'SIGINT', when: ({ stderr }) => stderr.includes('[y/N]') },
    });
    expect(result.stderr).toContain('interrupted: nothing removed');
    expect(result.code).toBe(130);
    expect(await entriesIn(path)).toBe(1);
  });
});

describe('Ctrl-C during warm', () => {
  it('prints the summary so far and exits 130; what was warmed stays cached', async () => {
    const path = freshPath();
    const env = envFor(fx.fake.url, path);
    const file = join(fx.dir, 'interrupted.txt');
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => `interrupted prompt ${i + 1}`).join('\n'));
    fx.fake.setLatency(300);
    try {
      const before = fx.fake.modelCalls();
      const result = await runCli(['warm', file, '--concurrency', '2'], {
        env,
        interrupt: { signal: 'SIGINT', when: () => fx.fake.modelCalls() - before >= 5 },
      });
      expect(result.code).toBe(130);
      const head = /^warmed (\d+) · already cached 0 · failed (\d+) \(30 requests in .+, interrupted\)$/m.exec(result.stdout);
      expect(head).not.toBeNull();
      const [warmed, failed] = [Number(head?.[1]), Number(head?.[2])];
      expect(warmed).toBeGreaterThanOrEqual(2);
      expect(warmed + failed).toBe(30);
      // One line per reason, not one per line.
      expect(result.stdout).toMatch(/^ {2}lines \d+-30 \(\d+ lines\): not tried: interrupted \(Ctrl-C\)$/m);
      expect(result.stdout.split('\n').filter((line) => line.includes('not tried')).length).toBe(1);
      expect((await runCli(['run', 'interrupted prompt 1'], { env })).stderr).toContain('cache hit');
    } finally {
      fx.fake.setLatency(0);
    }
  });

  it('--output json says interrupted: true', async () => {
    const env = envFor(fx.fake.url, freshPath());
    fx.fake.setLatency(300);
    try {
      const before = fx.fake.modelCalls();
      const input = Array.from({ length: 20 }, (_, i) => `json interrupted ${i + 1}`).join('\n');
      const result = await runCli(['warm', '-', '--concurrency', '1', '--output', 'json'], {
        env,
        input,
        interrupt: { signal: 'SIGINT', when: () => fx.fake.modelCalls() - before >= 2 },
      });
      expect(result.code).toBe(130);
      const summary = JSON.parse(result.stdout) as {
        total: number;
        interrupted: boolean;
        warmed: number;
        failed: number;
        failures: Array<{ line: number; reason: string }>;
      };
      expect(summary).toMatchObject({ total: 20, interrupted: true });
      expect(summary.warmed + summary.failed).toBe(20);
      expect(summary.failures.at(-1)).toEqual({ line: 20, reason: 'not tried: interrupted (Ctrl-C)' });
    } finally {
      fx.fake.setLatency(0);
    }
  });
});
