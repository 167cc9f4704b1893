import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { createTempDir } from '@tinyllm/test-utils';
import { afterAll } from 'vitest';
import { createFileBackend } from './file-backend.js';

const directory = createTempDir('tinyllm-file-backend-');
afterAll(() => directory.remove());

runConformanceSuite('file (example third-party backend)', {
  createBackend: ({ namespace }) => createFileBackend(directory.path, namespace),
  shared: true,
});
