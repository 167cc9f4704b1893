import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { afterAll } from 'vitest';
import { FileBackend } from './file-backend.js';

const directory = mkdtempSync(join(tmpdir(), 'tinyllm-file-backend-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

runConformanceSuite('file (example third-party backend)', { createBackend: ({ namespace }) => new FileBackend(directory, namespace) });
