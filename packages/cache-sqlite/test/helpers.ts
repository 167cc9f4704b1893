import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';

/** The database file of a test: cache.sqlite in the test's temporary directory (the tempDir fixture). */
export const dbPath = (dir: string): string => join(dir, 'cache.sqlite');

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

// Another process that takes the write lock (BEGIN IMMEDIATE), says "locked", and holds it until its
// stdin ends (or the test process dies), then commits and says "released".
const LOCKER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\\n');
});
`;

type Locker = ChildProcessByStdio<Writable, Readable, null>;
const lockers = new Set<Locker>();
afterEach(() => {
  for (const locker of lockers) locker.kill();
  lockers.clear();
});

function untilLine(locker: Locker, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: string): void => {
      out += chunk;
      if (out.includes(`${line}\n`)) {
        locker.stdout.off('data', onData);
        resolve();
      }
    };
    locker.stdout.setEncoding('utf8').on('data', onData);
    locker.once('exit', (code) => reject(new Error(`the locker exited (${code}) before "${line}": ${out}`)));
  });
}

/** Starts a second process holding the write lock of path; resolves once it holds it, with a function that releases it. */
export async function lockInAnotherProcess(path: string): Promise<{ release: () => Promise<void> }> {
  const locker = spawn(process.execPath, ['-e', LOCKER, betterSqlite, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  lockers.add(locker);
  await untilLine(locker, 'locked');
  return {
    release: async () => {
      const released = untilLine(locker, 'released');
      locker.stdin.end();
      await released;
    },
  };
}

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

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Bundles a file of test/fixtures (and the sources it imports) into one .mjs at outfile with esbuild,
 * which tsup brings along, so a plain `node` child process can run it.
 */
export async function bundleFixture(fixture: string, outfile: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve('tsup'))('esbuild') as Esbuild;
  const betterSqliteUrl = pathToFileURL(betterSqlite).href;
  const coreSrc = here('../../cache-core/src/index.ts');
  await esbuild.build({
    entryPoints: [here(`./fixtures/${fixture}`)],
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
          build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: betterSqliteUrl, external: true }));
        },
      },
    ],
  });
}

/** Runs `node script ...args` (as another user when uid is given) and collects its output. */
export function runNode(script: string, args: string[], uid?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
