import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { type CliResult, cleanEnv, envFor, useCliFixture } from './helpers.js';

// The packages are not on npm yet, so the README's way to run the command from a clone is
// `pnpm tinyllm ARGS` at the repository root: it builds (a cached no-op here) and runs the command.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const fx = useCliFixture();

/** `pnpm tinyllm ...args` at the repository root, as a user types it. */
function pnpmTinyllm(args: readonly string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['tinyllm', ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('pnpm tinyllm, from a clone', () => {
  it('runs the command with its arguments; stdout carries only the answer', { timeout: 180_000 }, async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'clone.sqlite'));
    const result = await pnpmTinyllm(['run', '--output', 'json', 'asked from a clone'], env);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { response: string; cache: { status: string } };
    expect(body.response).toBe(fakeAnswer({ model: 'qwen2.5:0.5b', prompt: 'asked from a clone' }).text);
    expect(body.cache.status).toBe('miss');
    expect(result.stderr).toContain('cache miss');
    const again = await pnpmTinyllm(['run', '-'], env, 'asked from a clone');
    expect(again.stderr).toContain('cache hit');
  });

  it('passes the exit code and the version through', { timeout: 180_000 }, async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const versionRun = await pnpmTinyllm(['--version'], {});
    expect(versionRun.code).toBe(0);
    expect(versionRun.stdout.trim()).toBe(version);
    const usage = await pnpmTinyllm(['run', '--cache-ttl', '0', 'x'], envFor(fx.fake.url, join(fx.dir, 'clone.sqlite')));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--cache-ttl never');
  });
});
