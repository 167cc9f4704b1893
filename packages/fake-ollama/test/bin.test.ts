import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { post } from './helpers.js';

// Issue 8 item 23: the fake-ollama bin reproduces failures from a shell (built bin, run as a user would).
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGTERM');
  child = undefined;
});

function start(args: string[], env: Record<string, string> = {}): Promise<string> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the package first (pnpm --filter @tinyllm/fake-ollama build)`);
  child = spawn(process.execPath, [BIN, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child?.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /listening on (\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child?.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child?.on('exit', (code) => reject(new Error(`fake-ollama exited with ${code}: ${err}`)));
  });
}

function exitOf(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stderr })));
}

const gen = { model: 'qwen2.5:0.5b', prompt: 'hi', stream: false };

describe('fake-ollama bin', () => {
  it('injects the faults given by --fault and $FAKE_OLLAMA_FAULTS, in order', async () => {
    const url = await start(['--fault', 'status:503', '--fault', 'status:500,times=2'], { FAKE_OLLAMA_FAULTS: 'status:404' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(url, '/api/generate', gen)).status);
    expect(statuses).toEqual([404, 503, 500, 500, 200]);
  });

  it('sets a digest with --digest and takes faults over /__fake/faults from another process', async () => {
    const hex = 'c'.repeat(64);
    const url = await start(['--digest', `qwen2.5:0.5b=${hex}`]);
    const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string; digest: string }> };
    expect(tags.models.find((m) => m.name === 'qwen2.5:0.5b')?.digest).toBe(hex);
    await fetch(`${url}/__fake/faults`, { method: 'POST', body: JSON.stringify({ kind: 'reset' }) });
    await expect(post(url, '/api/generate', gen)).rejects.toThrow();
    const counts = (await (await fetch(`${url}/__fake/counts`)).json()) as { modelCalls: number };
    expect(counts.modelCalls).toBe(1);
  });

  it('exits 2 naming the flag for a bad fault or an unknown model digest', async () => {
    const bad = await exitOf(['--fault', 'status:200']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fault');
    const unknown = await exitOf(['--port', '0', '--digest', `nope=${'d'.repeat(64)}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown model');
  });
});
