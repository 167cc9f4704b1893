import { join } from 'node:path';
import { test } from '@tinyllm/test-utils';
import { describe, expect } from 'vitest';
import { SqliteBackend } from '../src/index.js';
import { bundleFixture, runNode } from './helpers.js';

const WORKERS = 8;
const PER_WORKER = 200;
describe('several processes on one file', () => {
  test(`${WORKERS} processes writing ${PER_WORKER} entries each to a fresh file neither fail nor lose entries`, async ({ tempDir }) => {
    const dir = tempDir;
    const script = join(dir, 'worker.mjs');
    const path = join(dir, 'shared.sqlite');
    await bundleFixture('worker.ts', script);

    // The file does not exist yet: the processes also race to create the schema.
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, id) => runNode(script, [path, String(id), String(PER_WORKER)])));
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });

    const backend = new SqliteBackend({ path, namespace: 'multi' });
    try {
      expect(backend.stats().entries).toBe(WORKERS * PER_WORKER);
      for (let id = 0; id < WORKERS; id++) {
        for (let index = 0; index < PER_WORKER; index++) {
          expect(backend.get(`w${id}-${index}`)?.value).toEqual({ worker: String(id), index, body: `${id}:${index}:`.repeat(50) });
        }
      }
      expect(await backend.readCounters()).toMatchObject({
        hits: WORKERS * PER_WORKER,
        misses: WORKERS,
        sets: WORKERS * PER_WORKER,
        errors: 0,
        evictions: 0,
      });
    } finally {
      backend.close();
    }
  }, 60_000);
});
