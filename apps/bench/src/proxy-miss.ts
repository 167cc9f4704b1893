/**
 * What the proxy adds to a miss, and to a large pass-through upload: the fake Ollama and the proxy
 * (the cache engine on a memory store) each in their own process, requests from this one.
 * - miss latency: sequential non-streaming requests with ever-new prompts (every one a miss), direct
 *   to the fake and through the proxy, interleaved; the difference of the medians.
 * - first byte: the same with streaming requests, time to the first body byte.
 * - baseline: the same requests through the smallest faithful pass-through (node:http + undici),
 *   what any proxy process in the path costs on this machine.
 * - upload: a 128 MiB blob (POST /api/blobs/:digest, hashed by the fake as it streams in), direct and
 *   through the proxy, MB/s. Every upload is a blob the fake has not seen (its first bytes are a
 *   counter): for a blob it has, Ollama (and the fake) answer 200 at once without reading the body,
 *   which timed the answer, not the upload. The bare pass-through uploads the same way, as a baseline,
 *   and so does the proxy on SQLite, `tinyllm serve`'s default store (its entries off the JS heap).
 *
 * Placement of the latency rows: the fake and the proxy share one CPU, the client has the other, as
 * `tinyllm serve` runs beside Ollama (its default upstream is loopback) and clients run elsewhere.
 * Direct and proxied requests then cross between the CPUs equally often (twice). With the fake on
 * the client's CPU instead, the direct path crossed none while the proxied one crossed four times,
 * and on this VM a wake-up across vCPUs costs 0.3-0.5 ms: that measured the placement, not the proxy.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_CPU, pinToCpu, SERVER_CPU, unpin } from './cpu.js';
import type { RowResult } from './group.js';
import { isQuick, median } from './measure.js';
import { cpuOf } from './server-cpu.js';

const here = dirname(fileURLToPath(import.meta.url));
/**
 * Warmup rounds before any sample: each round is one miss of each kind (whole and streamed) on
 * each path (direct, the proxy, the bare pass-through), as in a sample round. Measured on this VM
 * (one process, medians of 150 rounds as the rounds went on, before the store's write moved after
 * the answer and the engine moved to undici's dispatch API): the proxy's miss added +1.52 ms
 * after 100 rounds, +1.05 ms after 500, +0.61-0.89 ms from 2,000 on (up to 8,000); the bare
 * pass-through +0.85, +0.49, +0.27-0.38 ms; so every path (the fake and the client too) is still
 * being optimised by V8 for the first ~1,000 rounds. A proxy that serves users has run far longer.
 */
const WARMUP_ROUNDS = 2_000;

function start(kind: string, ...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'proxy-servers.ts'), [kind, ...args], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 20_000);
    child.on('message', (message: { port?: unknown }) => {
      if (typeof message?.port !== 'number') return;
      clearTimeout(timer);
      resolve({ child, port: message.port });
    });
  });
}

/** One POST; resolves with the time to the first body byte and to the end (of the answer and of sending the body), in ms. */
function post(port: number, path: string, body: Buffer | string): Promise<{ firstByteMs: number; totalMs: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let answered: { status: number } | undefined;
    let sent = false;
    const done = (): void => {
      if (answered !== undefined && sent) resolve({ firstByteMs: first, totalMs: performance.now() - t0, status: answered.status });
    };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {
        if (first === 0) first = performance.now() - t0;
      });
      res.on('end', () => {
        answered = { status: res.statusCode ?? 0 };
        done();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('finish', () => {
      sent = true;
      done();
    });
    req.end(body);
  });
}

/** Runs the miss and upload measurements; every figure is a median over interleaved samples. */
export async function measureMiss(): Promise<RowResult> {
  const fake = await start('fake');
  const proxy = await start('engine', `http://127.0.0.1:${fake.port}`);
  const bare = await start('node-pass', `http://127.0.0.1:${fake.port}`);
  // The proxy as `tinyllm serve` runs by default, on SQLite: its entries live off the JS heap.
  const storeDir = await mkdtemp(join(tmpdir(), 'tinyllm-bench-'));
  const onSqlite = await start('engine-sqlite', `http://127.0.0.1:${fake.port}`, join(storeDir, 'cache.sqlite'));
  for (const server of [fake, proxy, bare, onSqlite]) if (server.child.pid !== undefined) pinToCpu(server.child.pid, SERVER_CPU);
  pinToCpu(process.pid, CLIENT_CPU);
  try {
    const samples = isQuick() ? 60 : 300;
    let n = 0;
    const body = (stream: boolean) =>
      JSON.stringify({ model: 'llama3.2', prompt: `miss ${process.pid} ${n++}: why is the sky blue?`, stream, options: { num_predict: 64 } });
    const direct: number[] = [];
    const proxied: number[] = [];
    const directFirst: number[] = [];
    const proxiedFirst: number[] = [];
    const bareWhole: number[] = [];
    const bareFirst: number[] = [];
    // Warmup: every path optimised as in processes that have run for a while (see WARMUP_ROUNDS).
    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      for (const stream of [false, true]) {
        await post(fake.port, '/api/generate', body(stream));
        await post(proxy.port, '/api/generate', body(stream));
        await post(bare.port, '/api/generate', body(stream));
        await post(onSqlite.port, '/api/generate', body(stream));
      }
    }
    for (let i = 0; i < samples; i++) {
      direct.push((await post(fake.port, '/api/generate', body(false))).totalMs);
      proxied.push((await post(proxy.port, '/api/generate', body(false))).totalMs);
      bareWhole.push((await post(bare.port, '/api/generate', body(false))).totalMs);
      directFirst.push((await post(fake.port, '/api/generate', body(true))).firstByteMs);
      proxiedFirst.push((await post(proxy.port, '/api/generate', body(true))).firstByteMs);
      bareFirst.push((await post(bare.port, '/api/generate', body(true))).firstByteMs);
    }
    // The upload puts the proxy alone on its CPU, and the client and the fake on the other (every
    // thread of each: see pinToCpu), so both paths share that CPU alike: the fake hashing a blob on
    // the proxy's CPU would time the two competing for it (~0.5x in a probe), and a client left
    // unpinned may land on either (0.40x in a full run with it unpinned).
    if (fake.child.pid !== undefined) pinToCpu(fake.child.pid, CLIENT_CPU);
    const size = (isQuick() ? 32 : 128) * 1024 * 1024;
    const blob = randomBytes(size);
    let uploaded = 0;
    // A blob the fake has not seen: a counter in its first bytes gives it a new digest (hashed here,
    // untimed). The fake reads and hashes all of it and answers 201 (a known blob: 200 unread).
    const freshBlob = (): string => {
      blob.writeUInt32BE(++uploaded, 0);
      return `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    };
    const uploads = { direct: [] as number[], proxied: [] as number[], bare: [] as number[], sqlite: [] as number[] };
    // CPU time of the pass-through process per upload, in ms: steadier than MB/s on a shared VM,
    // and what the proxy would need of a core of its own.
    const cpuMs = { proxied: [] as number[], bare: [] as number[], sqlite: [] as number[] };
    const timedUpload = async (server: { child: ChildProcess; port: number }, into: number[]) => {
      const before = await cpuOf(server.child);
      const result = await post(server.port, `/api/blobs/${freshBlob()}`, blob);
      into.push(((await cpuOf(server.child)) - before) / 1000);
      return result;
    };
    // One untimed upload each first: the first ones ran at about half the speed of the rest.
    await post(fake.port, `/api/blobs/${freshBlob()}`, blob);
    await post(proxy.port, `/api/blobs/${freshBlob()}`, blob);
    await post(bare.port, `/api/blobs/${freshBlob()}`, blob);
    await post(onSqlite.port, `/api/blobs/${freshBlob()}`, blob);
    const uploadRounds = isQuick() ? 5 : 9;
    for (let r = 0; r < uploadRounds; r++) {
      const d = await post(fake.port, `/api/blobs/${freshBlob()}`, blob);
      const p = await timedUpload(proxy, cpuMs.proxied);
      const b = await timedUpload(bare, cpuMs.bare);
      const q = await timedUpload(onSqlite, cpuMs.sqlite);
      if (d.status !== 201 || p.status !== 201 || b.status !== 201 || q.status !== 201)
        throw new Error(`a new blob's upload answered ${d.status} / ${p.status} / ${b.status} / ${q.status}, not 201`);
      uploads.sqlite.push(size / 1024 / 1024 / (q.totalMs / 1000));
      uploads.bare.push(size / 1024 / 1024 / (b.totalMs / 1000));
      uploads.direct.push(size / 1024 / 1024 / (d.totalMs / 1000));
      uploads.proxied.push(size / 1024 / 1024 / (p.totalMs / 1000));
    }
    return {
      samples,
      warmup: WARMUP_ROUNDS,
      missDirectP50: median(direct),
      missProxyP50: median(proxied),
      firstByteDirectP50: median(directFirst),
      firstByteProxyP50: median(proxiedFirst),
      missBareP50: median(bareWhole),
      firstByteBareP50: median(bareFirst),
      uploadMiB: size / 1024 / 1024,
      uploadSamples: uploadRounds,
      uploadDirectMBs: median(uploads.direct),
      uploadProxyMBs: median(uploads.proxied),
      uploadBareMBs: median(uploads.bare),
      uploadProxyCpuMs: median(cpuMs.proxied),
      uploadBareCpuMs: median(cpuMs.bare),
      uploadSqliteMBs: median(uploads.sqlite),
      uploadSqliteCpuMs: median(cpuMs.sqlite),
    };
  } finally {
    unpin(process.pid);
    for (const server of [proxy, bare, onSqlite, fake]) server.child.kill('SIGKILL');
    await rm(storeDir, { recursive: true, force: true });
  }
}
