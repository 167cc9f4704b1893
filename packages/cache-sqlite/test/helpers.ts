import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tinyllm-sqlite-test-'));
  dirs.push(dir);
  return dir;
}

/** A path for a database file in a fresh temporary directory. */
export function tempDbPath(): string {
  return join(tempDir(), 'cache.sqlite');
}
