#!/usr/bin/env node
// `pnpm demo`: the tinyllm command against a fake Ollama with realistic latency, on a fresh cache.
// Needs no Ollama and no Redis. Run `pnpm build` (or `pnpm demo` from the root, which builds) first.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOllama } from '@tinyllm/fake-ollama';

const BIN = fileURLToPath(new URL('../dist/tinyllm.js', import.meta.url));
const PROMPT = 'Why is the sky blue?';

/** Runs the built CLI as a child process (asynchronously: the fake Ollama lives in this process). */
function tinyllm(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

function show(args, result) {
  const quoted = args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
  console.log(`$ tinyllm ${quoted}`);
  if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
  for (const line of result.stderr.split('\n').filter(Boolean)) console.log(`  [stderr] ${line}`);
  console.log(`  [exit ${result.code}, wall time ${(result.ms / 1000).toFixed(2)} s]\n`);
  if (result.code !== 0) throw new Error(`tinyllm ${quoted} exited with ${result.code}`);
}

if (!existsSync(BIN)) {
  console.error(`${BIN} is missing: build first (pnpm build, or pnpm demo from the repository root)`);
  process.exit(1);
}

const cacheHome = mkdtempSync(join(tmpdir(), 'tinyllm-demo-'));
const server = await startFakeOllama({ latencyMs: 800, tokensPerSecond: 40 });
let failed = false;
try {
  const env = { ...process.env, TINYLLM_OLLAMA_HOST: server.url, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('TINYLLM_') && key !== 'TINYLLM_OLLAMA_HOST') delete env[key];
  delete env.OLLAMA_HOST;

  console.log(`fake Ollama at ${server.url} (800 ms to the first token, 40 tokens/s); cache in ${cacheHome}\n`);
  const miss = await tinyllm(['run', PROMPT], env);
  show(['run', PROMPT], miss);
  const hit = await tinyllm(['run', PROMPT], env);
  show(['run', PROMPT], hit);
  show(['cache-stats'], await tinyllm(['cache-stats'], env));

  console.log(
    `miss ${(miss.ms / 1000).toFixed(2)} s vs hit ${(hit.ms / 1000).toFixed(2)} s: ${(miss.ms / hit.ms).toFixed(1)}x faster; the model was called ${server.modelCalls()} time(s).`,
  );
} catch (error) {
  failed = true;
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await server.close();
  rmSync(cacheHome, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
