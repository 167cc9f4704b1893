#!/usr/bin/env node
// `pnpm demo`: the caching proxy (`tinyllm serve`) and the tinyllm command, against a fake Ollama with
// realistic latency, on a fresh cache. Needs no Ollama and no Redis. Run `pnpm build` (or `pnpm demo`
// from the root, which builds) first.
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

/** Starts `tinyllm serve` on a free port and resolves with its URL and a stop function. */
function serve(args, env) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const url = /OLLAMA_HOST=(http:\/\/\S+)/.exec(stdout)?.[1];
      if (url !== undefined) {
        resolve({ url, banner: stdout.trim(), stop: () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => reject(new Error(`tinyllm serve exited with ${code}: ${stderr.trim()}`)));
  });
}

/** One request through the proxy, shown like `curl -i` would show what matters. */
async function through(proxy, path, body) {
  const started = performance.now();
  const response = await fetch(`${proxy.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await response.text();
  const ms = performance.now() - started;
  const json = JSON.parse(text);
  const answer = json.response ?? json.message?.content ?? json.choices?.[0]?.message?.content ?? '';
  console.log(`$ curl ${path} -d '${JSON.stringify(body)}'`);
  console.log(
    `  HTTP ${response.status}  X-Cache: ${response.headers.get('x-cache')}  X-TinyLLM-Key: ${response.headers.get('x-tinyllm-key')}${response.headers.get('age') === null ? '' : `  Age: ${response.headers.get('age')}`}`,
  );
  console.log(`  ${answer.slice(0, 100)}${answer.length > 100 ? '...' : ''}`);
  console.log(`  [${(ms / 1000).toFixed(2)} s]\n`);
  return ms;
}

const cacheHome = mkdtempSync(join(tmpdir(), 'tinyllm-demo-'));
const server = await startFakeOllama({ latencyMs: 800, tokensPerSecond: 40 });
let failed = false;
try {
  const env = { ...process.env, TINYLLM_OLLAMA_HOST: server.url, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('TINYLLM_') && key !== 'TINYLLM_OLLAMA_HOST') delete env[key];
  delete env.OLLAMA_HOST;

  console.log(`fake Ollama at ${server.url} (800 ms to the first token, 40 tokens/s); cache in ${cacheHome}\n`);

  console.log('== The caching proxy: any Ollama or OpenAI client points at it instead of at Ollama ==\n');
  const proxy = await serve(['--upstream', server.url, '--sqlite-path', join(cacheHome, 'proxy.sqlite')], env);
  console.log(`$ tinyllm serve\n  ${proxy.banner}\n`);
  try {
    const ask = { model: 'qwen2.5:0.5b', prompt: PROMPT, stream: false };
    const proxyMiss = await through(proxy, '/api/generate', ask);
    const proxyHit = await through(proxy, '/api/generate', ask);
    const chat = { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: PROMPT }] };
    await through(proxy, '/v1/chat/completions', chat);
    await through(proxy, '/v1/chat/completions', chat);
    const stats = await (await fetch(`${proxy.url}/tinyllm/stats`)).json();
    console.log(`$ curl /tinyllm/stats\n  ${JSON.stringify(stats)}\n`);
    console.log(`proxy: miss ${(proxyMiss / 1000).toFixed(2)} s vs hit ${(proxyHit / 1000).toFixed(3)} s: ${(proxyMiss / proxyHit).toFixed(0)}x faster\n`);
  } finally {
    await proxy.stop();
  }

  console.log('== The tinyllm command ==\n');
  server.resetCounts();
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
