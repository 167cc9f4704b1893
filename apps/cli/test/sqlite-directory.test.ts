import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useCliFixture } from './helpers.js';

// Node's recursive mkdir spins forever on procfs (mkdir /proc/nope gives ENOENT, again and again).
// A cache path there must end as any unusable path does: a warning, and the answer without the cache.
const fx = useCliFixture();

describe('a cache directory that cannot be created', () => {
  it('XDG_CACHE_HOME under /proc: run answers without the cache instead of spinning', async () => {
    const result = await runCli(['run', 'hi'], { env: { TINYLLM_OLLAMA_HOST: fx.fake.url, XDG_CACHE_HOME: '/proc/nope' }, timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).not.toBe('');
    expect(result.stderr).toContain('warning: cannot create the directory of the SQLite cache at /proc/nope/tinyllm/cache.sqlite');
    expect(result.stderr).toContain('answering without the cache; choose another --sqlite-path (or XDG_CACHE_HOME)');
    expect(result.stderr).toContain('cache unavailable');
  });

  it('--sqlite-path several levels under /proc: the same for warm (exit 1, nothing warmed)', async () => {
    const result = await runCli(['warm', '-', '--sqlite-path', '/proc/nope/a/b/cache.sqlite'], {
      env: { TINYLLM_OLLAMA_HOST: fx.fake.url },
      input: 'one\n',
      timeoutMs: 15_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing warmed: cannot create the directory of the SQLite cache at /proc/nope/a/b/cache.sqlite');
  });

  it('missing parents elsewhere are still created, level by level', async () => {
    const path = join(fx.dir, 'x', 'y', 'z', 'cache.sqlite');
    const env = { TINYLLM_OLLAMA_HOST: fx.fake.url, TINYLLM_SQLITE_PATH: path };
    expect((await runCli(['run', 'deep path'], { env })).stderr).toContain('stored for 3600 s');
    expect((await runCli(['run', 'deep path'], { env })).stderr).toContain('cache hit');
  });
});
