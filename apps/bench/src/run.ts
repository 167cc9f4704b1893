/**
 * `pnpm bench [--quick] [--only memory|redis|ollama|stream|cli[,...]] [--no-write]`
 *
 * Runs every row of every selected group in its own child process (fresh V8: no shared optimised
 * code between configurations), one at a time (rows never compete for the 2 vCPUs), then prints
 * the ratio tables and, for a full selection, writes them into docs/benchmarks.md.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_CPU, pinToCpu, SERVER_CPU } from './cpu.js';
import { renderDocument } from './doc.js';
import type { Context, Group, RowResult } from './group.js';
import { GROUP_LOADERS, type GroupName, ONLY_ALIASES } from './groups.js';
import { defaults, median, summarizeLatency } from './measure.js';
import { startPrivateRedis } from './redis-server.js';
import { renderText, type Section } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const DOC_PATH = join(here, '../../../docs/benchmarks.md');
// A generous bound for a child that is still measuring (the proxy hit rows, the longest, take about
// six and a half minutes in a full run: 12 servers, 16 rounds of 1.5 s each, warmups).
const CHILD_TIMEOUT_MS = 900_000;

function parseArgs(argv: string[]): { quick: boolean; only: GroupName[] | undefined; write: boolean } {
  let quick = false;
  let write = true;
  let only: GroupName[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') continue; // pnpm passes it through
    if (arg === '--quick') quick = true;
    else if (arg === '--no-write') write = false;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice(7) : (argv[++i] ?? '');
      for (const name of value.split(',')) {
        const groups = ONLY_ALIASES[name.trim()];
        if (!groups) throw new Error(`--only: unknown group "${name}" (memory, memory-bytes, redis, ollama, stream, cli, proxy)`);
        only = [...new Set([...(only ?? []), ...groups])];
      }
    } else throw new Error(`unknown argument ${arg} (use --quick, --only <groups>, --no-write)`);
  }
  return { quick, only, write };
}

type Reply =
  | { kind: 'result'; result: RowResult }
  | { kind: 'ready' }
  | { kind: 'round'; rate: number }
  | { kind: 'latency'; times: number[] }
  | { kind: 'error'; error: string };

/** One row's child: `node --expose-gc --no-flush-bytecode --import tsx src/child.ts <group> <row>`, spoken to over IPC. */
class RowChild {
  readonly #child: ChildProcess;
  #waiting: ((reply: Reply) => void) | undefined;
  #exited = false;

  constructor(group: string, row: string, env: NodeJS.ProcessEnv) {
    this.#child = fork(join(here, 'child.ts'), [group, row], {
      execArgv: ['--expose-gc', '--no-flush-bytecode', '--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Only the row's replies: tsx, loaded into the child, may post IPC messages of its own (an empty
    // object once the child forks a tsx process of its own, as the proxy group does).
    this.#child.on('message', (message) => {
      if (typeof (message as { kind?: unknown } | null)?.kind === 'string') this.#deliver(message as Reply);
    });
    this.#child.on('exit', (code, signal) => {
      this.#exited = true;
      this.#deliver({ kind: 'error', error: `child exited with ${signal ?? code}` });
    });
  }

  #deliver(reply: Reply): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(reply);
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The next reply (after sending `command`, if any); an error reply or a timeout throws. */
  async next(command?: object): Promise<Reply> {
    if (this.#exited) throw new Error('child already exited');
    const reply = await new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'error', error: `no reply within ${CHILD_TIMEOUT_MS / 1000} s` }), CHILD_TIMEOUT_MS);
      this.#waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      if (command) this.#child.send(command);
    });
    if (reply.kind === 'error') {
      this.kill();
      throw new Error(reply.error);
    }
    return reply;
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.send({ cmd: 'close' });
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    this.kill();
  }

  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }
}

/**
 * Runs a group's rows. One-shot rows run alone, one after another. Runner rows are all prepared
 * first (one at a time), then measured round-robin: round r of every row, in an order rotated each
 * round, so a burst of load from another process hits all rows rather than one.
 */
async function runGroup(
  name: string,
  group: Group,
  ctx: Context,
  env: NodeJS.ProcessEnv,
  serverPid?: number,
): Promise<Record<string, RowResult | { error: string }>> {
  const results: Record<string, RowResult | { error: string }> = {};
  const runners = new Map<string, RowChild>();
  const fail = (row: string, error: unknown): void => {
    results[row] = { error: error instanceof Error ? error.message : String(error) };
    console.error(`[bench] ${name}/${row}: ERROR ${String(results[row]?.error).split('\n')[0]}`);
  };
  try {
    for (const row of group.plan(ctx)) {
      const t0 = Date.now();
      const child = new RowChild(name, row, env);
      try {
        const reply = await child.next();
        if (reply.kind === 'result') {
          results[row] = reply.result;
          console.error(`[bench] ${name}/${row}: done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } else runners.set(row, child);
      } catch (error) {
        fail(row, error);
      }
    }
    if (runners.size === 0) return results;
    const m = defaults();
    const rates = new Map<string, number[]>();
    const times = new Map<string, number[]>();
    const live = (): Array<[string, RowChild]> => [...runners].filter(([row]) => !results[row]);
    const step = async (row: string, child: RowChild, command: object, take: (reply: Reply) => void): Promise<void> => {
      try {
        take(await child.next(command));
      } catch (error) {
        fail(row, error);
      }
    };
    for (const [row, child] of live()) await step(row, child, { cmd: 'warmup', ms: m.warmupMs }, () => {});
    for (let r = 0; r < m.rounds; r++) {
      const order = live();
      for (let k = 0; k < order.length; k++) {
        const [row, child] = order[(k + r) % order.length] as [string, RowChild];
        await step(row, child, { cmd: 'round', ms: m.roundMs }, (reply) => {
          if (reply.kind === 'round') rates.set(row, [...(rates.get(row) ?? []), reply.rate]);
        });
      }
    }
    // Latency, interleaved the same way in chunks. Against a local server, pin the server and the
    // clients to different CPUs first: sequential round trips are bimodal by vCPU placement
    // otherwise (throughput is measured unpinned, where both sides may use every core).
    if (serverPid !== undefined) {
      pinToCpu(serverPid, SERVER_CPU);
      for (const [, child] of live()) if (child.pid !== undefined) pinToCpu(child.pid, CLIENT_CPU);
    }
    const CHUNKS = 4;
    for (let c = 0; c < CHUNKS; c++) {
      for (const [row, child] of live()) {
        await step(row, child, { cmd: 'latency', chunks: CHUNKS }, (reply) => {
          if (reply.kind === 'latency') times.set(row, [...(times.get(row) ?? []), ...reply.times]);
        });
      }
    }
    for (const [row] of live()) {
      const list = rates.get(row) ?? [];
      const lat = times.get(row);
      results[row] = {
        opsPerSec: median(list),
        min: Math.min(...list),
        max: Math.max(...list),
        rounds: list.length,
        ...(lat?.length ? summarizeLatency(lat) : {}),
      };
      console.error(`[bench] ${name}/${row}: ${fmtOpsPlain(median(list))} ops/s`);
    }
  } finally {
    await Promise.all([...runners.values()].map((child) => child.close()));
  }
  return results;
}

const fmtOpsPlain = (x: number): string => Math.round(x).toLocaleString('en');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.env.BENCH_QUICK = args.quick ? '1' : '0';
  const names = (Object.keys(GROUP_LOADERS) as GroupName[]).filter((n) => !args.only || args.only.includes(n));
  const ctx: Context = { quick: args.quick };
  const started = Date.now();
  const sections: Section[] = [];
  let redis: Awaited<ReturnType<typeof startPrivateRedis>> | undefined;
  try {
    for (const name of names) {
      const group: Group = await GROUP_LOADERS[name]();
      const skip = await group.available();
      if (skip) {
        console.error(`[bench] ${name}: skipped: ${skip}`);
        sections.push({ title: `${name}: skipped`, header: ['reason'], rows: [[skip]], targets: [], notes: [] });
        continue;
      }
      if (name === 'redis') {
        redis = await startPrivateRedis();
        ctx.redisUrl = redis.url;
      }
      const env = { ...process.env, BENCH_QUICK: args.quick ? '1' : '0', ...(ctx.redisUrl ? { BENCH_REDIS_URL: ctx.redisUrl } : {}) };
      const results = await runGroup(name, group, ctx, env, redis?.pid);
      sections.push(...group.summarize(results, ctx));
      if (name === 'redis' && redis) {
        await redis.stop();
        redis = undefined;
        delete ctx.redisUrl;
      }
    }
  } finally {
    await redis?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(renderText(sections));
  console.log(`\n(${args.quick ? 'quick' : 'full'} run, ${seconds.toFixed(0)} s)`);
  // A partial (--only) run would overwrite the other groups' figures: only full selections are written.
  if (args.write && !args.only) {
    writeFileSync(DOC_PATH, renderDocument(sections, { quick: args.quick, seconds }));
    console.log(`wrote ${DOC_PATH}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
