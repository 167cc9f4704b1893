import { join } from 'node:path';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, envFor, runCli, runCliClosingStdout, tempDir } from './helpers.js';

// `tinyllm run ... | head -c 10`: the reader of stdout goes away while the command still writes.
let fake: FakeOllamaServer;
let slow: FakeOllamaServer;
let dir: ReturnType<typeof tempDir>;
let n = 0;
const freshEnv = (server: FakeOllamaServer = fake): Record<string, string> => envFor(server.url, join(dir.path, `pipe-${++n}.sqlite`));

// About 670 KB of answer: more than a pipe or socket buffer holds, so the write outlives the reader.
const BIG = ['--max-tokens', '100000'];

const expectQuiet = (stderr: string): void => {
  expect(stderr).not.toContain('EPIPE');
  expect(stderr).not.toContain("Unhandled 'error' event");
  expect(stderr).not.toMatch(/^\s+at /m);
};

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeOllama({});
  // 50 tokens/s: a 2,000-token answer would stream for 40 s.
  slow = await startFakeOllama({ tokensPerSecond: 50 });
  dir = tempDir();
});

afterAll(async () => {
  await fake?.close();
  await slow?.close();
  dir?.cleanup();
});

describe('stdout closed early (| head -c 10)', () => {
  it('a whole answer: exits 0 without a stack trace, and the answer is still cached', async () => {
    const env = freshEnv();
    const result = await runCliClosingStdout(['run', ...BIG, 'closed pipe, text'], { env, afterBytes: 10 });
    expect(result.code).toBe(0);
    expectQuiet(result.stderr);
    expect(result.stdout.length).toBeGreaterThanOrEqual(10);
    // The write started before the answer was printed: it landed.
    const again = await runCli(['run', ...BIG, 'closed pipe, text'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('cache hit');
  });

  it('--output json: exits 0 without a stack trace', async () => {
    const env = freshEnv();
    const result = await runCliClosingStdout(['run', ...BIG, '--output', 'json', 'closed pipe, json'], { env, afterBytes: 10 });
    expect(result.code).toBe(0);
    expectQuiet(result.stderr);
    expect(result.stdout.startsWith('{')).toBe(true);
    expect((await runCli(['run', ...BIG, 'closed pipe, json'], { env })).stderr).toContain('cache hit');
  });

  it('streaming (TINYLLM_TTY=1): stops at once, exits 0 without a stack trace or error message', async () => {
    const env = { ...freshEnv(slow), TINYLLM_TTY: '1' };
    const result = await runCliClosingStdout(['run', '--max-tokens', '2000', 'closed pipe, streaming'], { env, afterBytes: 10, timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    expectQuiet(result.stderr);
    expect(result.stderr).not.toContain('tinyllm:');
    // Not the 40 s the whole answer would take.
    expect(result.exitMsAfterClose).toBeLessThan(8_000);
  });

  it('a cache hit printed into a closed pipe exits 0 too', async () => {
    const env = freshEnv();
    expect((await runCli(['run', ...BIG, 'closed pipe, hit'], { env })).code).toBe(0);
    const result = await runCliClosingStdout(['run', ...BIG, 'closed pipe, hit'], { env, afterBytes: 10 });
    expect(result.code).toBe(0);
    expectQuiet(result.stderr);
  });

  it('warm --output json into a closed pipe keeps its exit code (1 for a failed line)', async () => {
    const env = freshEnv();
    // Enough lines that the JSON summary outgrows the socket buffer.
    const input = Array.from({ length: 6000 }, (_, i) => `{"prompt": "bad line ${i}", "nope": 1}`).join('\n');
    const result = await runCliClosingStdout(['warm', '-', '--output', 'json'], { env, input, afterBytes: 10 });
    expect(result.code).toBe(1);
    expectQuiet(result.stderr);
  });
});
