import { join } from 'node:path';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, envFor, runCli, tempDir } from './helpers.js';

let fake: FakeOllamaServer;
let dir: ReturnType<typeof tempDir>;

beforeAll(async () => {
  assertBuilt();
  // A little latency so the eight processes really overlap on the file.
  fake = await startFakeOllama({ latencyMs: 50 });
  dir = tempDir();
});

afterAll(async () => {
  await fake?.close();
  dir?.cleanup();
});

it('eight processes at once on one new SQLite file: all succeed, no entry lost', async () => {
  const env = envFor(fake.url, join(dir.path, 'shared.sqlite'));
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => runCli(['run', `concurrent prompt ${i}`], { env, timeoutMs: 60_000 })));
  for (const result of results) {
    expect(result.stderr).not.toContain('warning');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cache miss');
  }
  expect(fake.modelCalls()).toBe(8);

  const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as Record<string, number>;
  expect(stats.entries).toBe(8);
  expect(stats.sets).toBe(8);
  expect(stats.misses).toBe(8);
  expect(stats.errors).toBe(0);

  // And every one of them is now a hit, again from eight processes at once.
  const again = await Promise.all(Array.from({ length: 8 }, (_, i) => runCli(['run', `concurrent prompt ${i}`], { env, timeoutMs: 60_000 })));
  for (const result of again) {
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cache hit');
  }
  expect(fake.modelCalls()).toBe(8);
  const after = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as Record<string, number>;
  expect(after.hits).toBe(8);
});
