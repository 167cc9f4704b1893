import { join } from 'node:path';
import { expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// A little latency so the eight processes really overlap on the file.
const fx = useCliFixture({ latencyMs: 50 });

it('eight processes at once on one new SQLite file: all succeed, no entry lost', async () => {
  const env = envFor(fx.fake.url, join(fx.dir, 'shared.sqlite'));
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => runCli(['run', `concurrent prompt ${i}`], { env, timeoutMs: 60_000 })));
  for (const result of results) {
    expect(result.stderr).not.toContain('warning');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cache miss');
  }
  expect(fx.fake.modelCalls()).toBe(8);

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
  expect(fx.fake.modelCalls()).toBe(8);
  const after = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as Record<string, number>;
  expect(after.hits).toBe(8);
});

it('eight processes asking the same new question at once on one SQLite file make one upstream call', async () => {
  // The generation takes a while (latency before the first byte), so the processes overlap with it.
  fx.fake.setLatency(1500);
  try {
    const before = fx.fake.modelCalls();
    const env = envFor(fx.fake.url, join(fx.dir, 'same-question.sqlite'));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => runCli(['run', '--output', 'json', 'the same new question'], { env, timeoutMs: 60_000 })),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(fx.fake.modelCalls() - before).toBe(1);
    const answers = results.map((result) => JSON.parse(result.stdout) as { response: string; cache: { status: string } });
    expect(new Set(answers.map((answer) => answer.response)).size).toBe(1);
    expect(answers.filter((answer) => answer.cache.status === 'miss')).toHaveLength(1);
  } finally {
    fx.fake.setLatency(50);
  }
}, 60_000);
