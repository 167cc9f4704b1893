/**
 * `tinyllm run` start-up on a hit: wall time of `node apps/cli/dist/tinyllm.js run "..."
 * --cache-backend sqlite` against `node -e 0`, alternating the two so machine noise hits both,
 * median of N. Then one run under --cpu-prof to say what dominates start-up (self time by package).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Group, RowResult } from './group.js';
import { isError } from './group.js';
import { isQuick, median, percentile } from './measure.js';
import { fmtMs, fmtRatio, type Section } from './table.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../cli/dist/tinyllm.js');
const PROMPT = 'Why is the sky blue? Answer in one sentence.';

// Async spawn, not spawnSync: the fake Ollama lives in this process and must keep answering.
function wallMs(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.slice(0, 3).join(' ')} exited ${signal ?? code}: ${stderr.slice(0, 400)}`));
    });
  });
}

// Self time per package (or node internals) from a .cpuprofile: what start-up spends its time in.
function profileByPackage(dir: string): Array<[string, number]> {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const url = node.callFrame.url;
    const bucket =
      url === ''
        ? `(${node.callFrame.functionName || 'native'})`
        : url.startsWith('node:')
          ? 'node internals (module loading, bootstrap)'
          : (/.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url.replace(/^.*\/(apps|packages)\//, '$1/').replace(/\/dist\/.*$/, ''));
    byPackage.set(bucket, (byPackage.get(bucket) ?? 0) + (selfUs.get(node.id) ?? 0) / 1000);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6);
}

async function startup(): Promise<RowResult> {
  const { startFakeOllama } = await import('@tinyllm/fake-ollama');
  const fake = await startFakeOllama({ latencyMs: 0 });
  const home = mkdtempSync(join(tmpdir(), 'tinyllm-bench-cli-'));
  // A private cache directory and database: never the user's.
  const env = {
    ...process.env,
    HOME: home,
    XDG_CACHE_HOME: home,
    TINYLLM_SQLITE_PATH: join(home, 'cache.db'),
    OLLAMA_HOST: fake.url,
    TINYLLM_OLLAMA_HOST: fake.url,
    NO_COLOR: '1',
  };
  const run = [CLI, 'run', PROMPT, '--cache-backend', 'sqlite'];
  try {
    await wallMs(run, env); // the miss that fills the cache
    const before = fake.modelCalls();
    const n = isQuick() ? 5 : 15;
    const base: number[] = [];
    const cli: number[] = [];
    for (let i = 0; i < n + 1; i++) {
      const b = await wallMs(['-e', '0'], env);
      const c = await wallMs(run, env);
      // The first pair warms the page cache.
      if (i > 0) {
        base.push(b);
        cli.push(c);
      }
    }
    const hits = fake.modelCalls() === before;
    const profDir = join(home, 'prof');
    await wallMs(['--cpu-prof', '--cpu-prof-dir', profDir, ...run], env);
    const sort = (xs: number[]) => [...xs].sort((a, b) => a - b);
    return {
      nodeMs: median(base),
      cliMs: median(cli),
      cliP90: percentile(sort(cli), 90),
      nodeP90: percentile(sort(base), 90),
      runs: n,
      allHits: hits,
      profile: profileByPackage(profDir),
    };
  } finally {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export const group: Group = {
  name: 'cli',
  async available() {
    return existsSync(CLI) ? undefined : 'apps/cli/dist/tinyllm.js does not exist yet (build apps/cli); skipped';
  },
  plan: () => ['startup'],
  rows: { startup },
  summarize(results) {
    const r = results.startup;
    if (!r || isError(r))
      return [
        {
          title: 'CLI start-up',
          header: ['error'],
          rows: [[String((r as { error?: string } | undefined)?.error ?? 'not run').split('\n')[0] ?? '']],
          targets: [],
          notes: [],
        },
      ];
    const ratio = (r.cliMs as number) / (r.nodeMs as number);
    const profile = r.profile as Array<[string, number]>;
    return [
      {
        title: `CLI start-up on a hit (median of ${r.runs} alternating runs)`,
        header: ['command', 'wall median', 'wall p90', 'vs node -e 0'],
        rows: [
          ['node -e 0', fmtMs(r.nodeMs as number), fmtMs(r.nodeP90 as number), '1.00x'],
          ['tinyllm run "..." --cache-backend sqlite (hit)', fmtMs(r.cliMs as number), fmtMs(r.cliP90 as number), fmtRatio(ratio)],
        ],
        targets: [{ name: 'tinyllm run on a hit vs node -e 0', measured: fmtRatio(ratio), goal: '<= 3.00x', pass: r.allHits ? ratio <= 3 : false }],
        notes: [
          ...(r.allHits ? [] : ['some timed runs reached the fake Ollama: they were not hits']),
          `start-up self time by package (one --cpu-prof run): ${profile.map(([k, ms]) => `${k} ${ms.toFixed(1)} ms`).join('; ')}`,
        ],
      } satisfies Section,
    ];
  },
};
