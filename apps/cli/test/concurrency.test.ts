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
