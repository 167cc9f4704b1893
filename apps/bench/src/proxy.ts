/**
 * The proxy's HTTP stack, chosen by measurement: node:http against fastify (with
 * @fastify/reply-from for pass-through), both with undici upstream, and the @tinyllm/proxy shell
 * itself. Each server runs in its own process pinned to one CPU; load comes from autocannon in
 * another process on the other CPU (50 connections, ~300 B bodies, ~2 KB answers). Servers are
 * measured round-robin (round r of every server, in rotated order), so noise lands on all of them.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_CPU, pinToCpu, SERVER_CPU } from './cpu.js';
import type { Group, RowResult } from './group.js';
import { isError, unresolvable } from './group.js';
import { isQuick, median } from './measure.js';
import { requestBody } from './proxy-servers.js';
import { fmtMs, fmtOps, fmtRatio, fmtSpread, type Section } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

type ServerKind = 'bare' | 'node-hit' | 'fastify-hit' | 'proxy-hit' | 'direct' | 'node-pass' | 'fastify-pass' | 'proxy-pass';

const HIT_ROWS: ServerKind[] = ['bare', 'node-hit', 'fastify-hit', 'proxy-hit'];
const PASS_ROWS: ServerKind[] = ['direct', 'node-pass', 'fastify-pass', 'proxy-pass'];

const LABELS: Record<ServerKind, string> = {
  bare: 'floor: bare node:http, ignores the body, writes the stored bytes',
  'node-hit': 'node:http: read body + JSON.parse + stored bytes',
  'fastify-hit': 'fastify 5: route + its JSON body parser + stored bytes',
  'proxy-hit': '@tinyllm/proxy shell (node:http): hook answers a byte-identical body; controls, CORS, counters, pino line',
  direct: 'direct: autocannon -> upstream (bare node:http, 2 KB answer)',
  'node-pass': 'node:http + undici Pool.dispatch pass-through',
  'fastify-pass': 'fastify 5 + @fastify/reply-from (undici) pass-through',
  'proxy-pass': '@tinyllm/proxy pass-through (POST /api/show), counters, pino line',
};

interface Started {
  child: ChildProcess;
  port: number;
}

function startServer(kind: string, upstream?: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'proxy-servers.ts'), upstream ? [kind, upstream] : [kind], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start`)), 20_000);
    const onMessage = (message: { port?: unknown }): void => {
      if (typeof message?.port !== 'number') return; // tsx may post messages of its own
      child.off('message', onMessage);
      clearTimeout(timer);
      resolve({ child, port: message.port });
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

// autocannon in its own process (pinned to the client CPU), so the load generator never shares a
// V8 or an event loop with the server it measures.
function load(url: string, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const bin = require.resolve('autocannon/autocannon.js');
    const args = [bin, '-c', '50', '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', requestBody(), '--json', url];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) pinToCpu(child.pid, CLIENT_CPU);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.slice(0, 300)}`));
      try {
        const r = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
      } catch (error) {
        reject(new Error(`autocannon output: ${String(error)}: ${out.slice(0, 200)}`));
      }
    });
  });
}

async function stack(): Promise<RowResult> {
  const seconds = isQuick() ? 1.5 : 3;
  const rounds = isQuick() ? 2 : 3;
  const started: Started[] = [];
  try {
    const upstream = await startServer('bare');
    started.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    const targets = new Map<ServerKind, string>();
    for (const kind of [...HIT_ROWS, ...PASS_ROWS]) {
      if (kind === 'direct') {
        targets.set(kind, `${upstreamUrl}/api/show`);
        continue;
      }
      const server = await startServer(kind, PASS_ROWS.includes(kind) ? upstreamUrl : undefined);
      started.push(server);
      targets.set(kind, `http://127.0.0.1:${server.port}${PASS_ROWS.includes(kind) ? '/api/show' : '/api/generate'}`);
    }
    // Servers under test on one CPU, the load (and the upstream of the pass-through rows) on the other.
    for (const server of started) if (server.child.pid !== undefined) pinToCpu(server.child.pid, server === upstream ? CLIENT_CPU : SERVER_CPU);
    const runs = new Map<ServerKind, LoadResult[]>();
    const kinds = [...targets.keys()];
    for (const kind of kinds) await load(targets.get(kind) as string, 1); // warmup: V8 optimises each server
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + r) % kinds.length] as ServerKind;
        // The direct row measures the upstream itself: give it the server CPU for its turn.
        if (kind === 'direct' && upstream.child.pid !== undefined) pinToCpu(upstream.child.pid, SERVER_CPU);
        const result = await load(targets.get(kind) as string, seconds);
        if (kind === 'direct' && upstream.child.pid !== undefined) pinToCpu(upstream.child.pid, CLIENT_CPU);
        runs.set(kind, [...(runs.get(kind) ?? []), result]);
      }
    }
    const out: RowResult = { seconds, rounds };
    for (const [kind, list] of runs) {
      const rps = list.map((x) => x.rps);
      out[kind] = {
        rps: median(rps),
        min: Math.min(...rps),
        max: Math.max(...rps),
        p50: median(list.map((x) => x.p50)),
        p99: median(list.map((x) => x.p99)),
        bad: list.reduce((n, x) => n + x.non2xx + x.errors, 0),
      };
    }
    return out;
  } finally {
    for (const server of started) server.child.kill('SIGKILL');
  }
}

type Figures = { rps: number; min: number; max: number; p50: number; p99: number; bad: number };

export const group: Group = {
  name: 'proxy',
  async available() {
    return unresolvable('@tinyllm/proxy', 'fastify', '@fastify/reply-from', 'autocannon/autocannon.js', 'undici');
  },
  plan: () => ['stack'],
  rows: { stack },
  summarize(results) {
    const r = results.stack;
    if (!r || isError(r)) {
      const error = String((r as { error?: string } | undefined)?.error ?? 'not run').split('\n')[0] ?? '';
      return [{ title: 'Proxy HTTP stack', header: ['error'], rows: [[error]], targets: [], notes: [] }];
    }
    const f = (kind: ServerKind): Figures | undefined => r[kind] as Figures | undefined;
    const table = (kinds: ServerKind[], base: ServerKind): string[][] =>
      kinds.map((kind) => {
        const x = f(kind);
        const b = f(base);
        if (!x || !b) return [LABELS[kind], 'n/a', '', '', '', ''];
        return [
          LABELS[kind],
          fmtRatio(x.rps / b.rps),
          fmtOps(x.rps),
          fmtSpread(x.rps, x.min, x.max),
          `${fmtMs(x.p50)} / ${fmtMs(x.p99)}`,
          x.bad === 0 ? '0' : String(x.bad),
        ];
      });
    const ratio = (a: ServerKind, b: ServerKind): number => (f(a)?.rps ?? Number.NaN) / (f(b)?.rps ?? Number.NaN);
    const shellHit = ratio('proxy-hit', 'bare');
    const p50Ratio = (f('proxy-hit')?.p50 ?? Number.NaN) / (f('bare')?.p50 ?? Number.NaN);
    const note = `autocannon -c 50, ${r.rounds} rounds of ${r.seconds} s per server after 1 s of warmup, median req/s; each server in its own process pinned to one CPU, autocannon on the other; non-2xx or errors must be 0.`;
    return [
      {
        title: 'Proxy stack: hit-like route (POST, ~300 B body, ~2 KB stored answer)',
        header: ['server', 'vs floor', 'req/s (median)', 'rounds spread', 'p50 / p99', 'non-2xx+errors'],
        rows: table(HIT_ROWS, 'bare'),
        targets: [
          {
            name: 'proxy shell hit-like route vs bare node:http (the engine adds its lookup on top)',
            measured: fmtRatio(shellHit),
            goal: '>= 0.70x',
            pass: Number.isFinite(shellHit) ? shellHit >= 0.7 : null,
          },
          {
            name: 'proxy shell hit-like route p50 vs bare node:http p50',
            measured: fmtRatio(p50Ratio),
            goal: '<= 2.00x',
            pass: Number.isFinite(p50Ratio) ? p50Ratio <= 2 : null,
          },
        ],
        notes: [note, `fastify vs node:http on the same work: ${fmtRatio(ratio('fastify-hit', 'node-hit'))}`],
      },
      {
        title: 'Proxy stack: pass-through (POST /api/show, ~300 B up, ~2 KB down, upstream in a third process)',
        header: ['server', 'vs direct', 'req/s (median)', 'rounds spread', 'p50 / p99', 'non-2xx+errors'],
        rows: table(PASS_ROWS, 'direct'),
        targets: [],
        notes: [
          `fastify + reply-from vs node:http + undici: ${fmtRatio(ratio('fastify-pass', 'node-pass'))}; @tinyllm/proxy vs node:http + undici: ${fmtRatio(ratio('proxy-pass', 'node-pass'))}`,
          'the upstream shares the client CPU with autocannon in the pass-through rows (three busy processes on two CPUs), so "vs direct" understates what a proxy costs on a bigger machine; compare the pass-through rows with each other.',
        ],
      },
    ];
  },
};
