import { join } from 'node:path';
import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { createTempDir, describeCacheOptions } from '@tinyllm/test-utils';
import { afterAll } from 'vitest';
import { createSqliteCache, SqliteBackend } from '../src/index.js';

const dir = createTempDir('tinyllm-sqlite-conformance-');
const path = join(dir.path, 'cache.sqlite');
afterAll(() => dir.remove());

runConformanceSuite('sqlite', {
  lists: true,
  createBackend: ({ namespace }) => new SqliteBackend({ path, namespace }),
  createBoundedBackend: ({ namespace, maxEntries }) => new SqliteBackend({ path, namespace, maxEntries }),
  shared: true,
  leases: true,
  staleIfError: true,
});

let caches = 0;
describeCacheOptions('createSqliteCache', (options) => createSqliteCache({ path: join(dir.path, `options-${++caches}.sqlite`), ...options }));
