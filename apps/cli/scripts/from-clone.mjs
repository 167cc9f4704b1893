#!/usr/bin/env node
/**
 * `pnpm tinyllm ARGS...` at the repository root: builds the command and what it depends on (turbo;
 * a cached no-op when nothing changed) and runs it with ARGS, in this process, so stdin, stdout,
 * stderr, Ctrl-C and the exit code are the command's own. The build's output is shown only when it
 * fails, so stdout carries nothing but the command's (`pnpm tinyllm run --output json hi | jq`).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const turbo = createRequire(`${root}package.json`).resolve('turbo/bin/turbo');
const build = spawnSync(process.execPath, [turbo, 'run', 'build', '--filter=@tinyllm/cli...', '--output-logs=errors-only'], {
  cwd: root,
  encoding: 'utf8',
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  process.stderr.write(`tinyllm: building the command failed${build.error ? ` (${build.error.message})` : ''}; see above\n`);
  process.exit(1);
}
// dist/tinyllm.js reads process.argv from index 2 on, which holds ARGS here as well.
await import('../dist/tinyllm.js');
