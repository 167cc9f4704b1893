import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { afterAll } from 'vitest';
import { SqliteBackend } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyllm-sqlite-conformance-'));
const path = join(dir, 'cache.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runConformanceSuite('sqlite', {
  createBackend: ({ namespace }) => new SqliteBackend({ path, namespace }),
  createBoundedBackend: ({ namespace, maxEntries }) => new SqliteBackend({ path, namespace, maxEntries }),
});
