import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory and the function that removes it. */
export interface TempDir {
  /** Its absolute path. */
  readonly path: string;
  /** Removes it with everything inside; safe to call twice. */
  remove(): void;
}

/** Creates a fresh directory under the system's temporary directory (for suites that need one per file; tests take the tempDir fixture). */
export function createTempDir(prefix = 'tinyllm-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
