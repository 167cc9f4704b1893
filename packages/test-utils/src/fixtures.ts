import { test as base } from 'vitest';
import { type RecordingLogger, recordingLogger } from './logger.js';
import { createTempDir } from './temp-dir.js';

/** The fixtures `test` provides. */
export interface Fixtures {
  /** A fresh recording logger. */
  logger: RecordingLogger;
  /** A fresh temporary directory, removed after the test. */
  tempDir: string;
}

/**
 * vitest's `test` with TinyLLM's fixtures: `test('…', async ({ logger, tempDir }) => { … })`.
 * Each fixture is created only for the tests that name it.
 */
export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; this one has none
  logger: async ({}, use) => {
    await use(recordingLogger());
  },
  // biome-ignore lint/correctness/noEmptyPattern: as above
  tempDir: async ({}, use) => {
    const dir = createTempDir();
    try {
      await use(dir.path);
    } finally {
      dir.remove();
    }
  },
});
