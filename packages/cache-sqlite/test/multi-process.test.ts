import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteBackend } from '../src/index.js';
import { tempDir } from './helpers.js';

const WORKERS = 8;
const PER_WORKER = 200;
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The slice of esbuild's API used here (esbuild is tsup's dependency, so its types are not ours to import). */
interface Esbuild {
  build(options: {
    entryPoints: string[];
    outfile: string;
    bundle: boolean;
    format: 'esm';
    platform: 'node';
    target: string;
    logLevel: 'silent';
    plugins: Array<{
      name: string;
      setup(build: { onResolve(options: { filter: RegExp }, callback: () => { path: string; external?: boolean }): void }): void;
    }>;
  }): Promise<unknown>;
}

/** Bundles test/fixtures/worker.ts (and the sources it imports) into one .mjs with esbuild, which tsup brings along. */
async function bundleWorker(outfile: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve('tsup'))('esbuild') as Esbuild;
  const betterSqlite = pathToFileURL(require.resolve('better-sqlite3')).href;
  const coreSrc = here('../../cache-core/src/index.ts');
  await esbuild.build({
    entryPoints: [here('./fixtures/worker.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace',
        setup(build) {
          build.onResolve({ filter: /^@tinyllm\/cache-core$/ }, () => ({ path: coreSrc }));
          // The native module stays outside the bundle, imported from where this package installed it.
          build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: betterSqlite, external: true }));
        },
      },
    ],
  });
}

function run(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('several processes on one file', () => {
  it(`${WORKERS} processes writing ${PER_WORKER} entries each to a fresh file neither fail nor lose entries`, async () => {
    const dir = tempDir();
    const script = join(dir, 'worker.mjs');
    const path = join(dir, 'shared.sqlite');
    await bundleWorker(script);

    // The file does not exist yet: the processes also race to create the schema.
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, id) => run(script, [path, String(id), String(PER_WORKER)])));
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
