import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from '@tinyllm/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultCachePath, SqliteBackend } from '../src/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('defaultCachePath', () => {
  it('honours XDG_CACHE_HOME', () => {
    expect(defaultCachePath({ XDG_CACHE_HOME: '/var/cache/me' }, 'linux')).toBe(join('/var/cache/me', 'tinyllm', 'cache.sqlite'));
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset, empty or relative', () => {
    const fallback = join(homedir(), '.cache', 'tinyllm', 'cache.sqlite');
    expect(defaultCachePath({}, 'linux')).toBe(fallback);
    expect(defaultCachePath({ XDG_CACHE_HOME: '' }, 'linux')).toBe(fallback);
    expect(defaultCachePath({ XDG_CACHE_HOME: 'relative/dir' }, 'linux')).toBe(fallback);
  });

  test('is where a backend without a path creates its directory and file', ({ tempDir }) => {
    const xdg = tempDir;
    vi.stubEnv('XDG_CACHE_HOME', xdg);
    const backend = new SqliteBackend();
    expect(backend.path).toBe(join(xdg, 'tinyllm', 'cache.sqlite'));
    backend.close();
    expect(existsSync(join(xdg, 'tinyllm', 'cache.sqlite'))).toBe(true);
  });
});
