/**
 * Child-process entry: `node --expose-gc --no-flush-bytecode --import tsx src/child.ts <group> <row>`.
 * Runs exactly one row in a fresh V8 so no two configurations share inline caches or optimised
 * code (measured: a second lru-cache configuration in one process ran slower), and sends the result
 * to the parent over IPC.
 */
import { contextFromEnv, type Group, isRunner, type Runner } from './group.js';
import { GROUP_LOADERS } from './groups.js';
import { latencySamples, round } from './measure.js';

const [groupName, rowId] = process.argv.slice(2);

async function main(): Promise<void> {
  const load = GROUP_LOADERS[groupName as keyof typeof GROUP_LOADERS];
  if (!load || !rowId) throw new Error(`usage: child.ts <${Object.keys(GROUP_LOADERS).join('|')}> <row>`);
  const group: Group = await load();
  const row = group.rows[rowId];
  if (!row) throw new Error(`group ${groupName} has no row ${rowId}`);
  const result = await row(contextFromEnv());
  if (!isRunner(result)) return send({ kind: 'result', result });
  await serve(result);
}

/** Answers the parent's commands until it says close: warmup, round (-> ops/s), latency (-> samples). */
function serve(runner: Runner): Promise<void> {
  let next = 0;
  return new Promise((resolve, reject) => {
    process.on('message', (message: { cmd: string; ms?: number; chunks?: number }) => {
      const run = async (): Promise<void> => {
        if (message.cmd === 'round' || message.cmd === 'warmup') {
          globalThis.gc?.(); // the previous round's garbage is not this round's cost
          const r = await round(runner.op, message.ms ?? 500, runner.concurrency ?? 1, next);
          next = r.next;
          await send({ kind: 'round', rate: r.ops / r.seconds });
        } else if (message.cmd === 'latency') {
          const times = await latencySamples(runner.op, Math.ceil(runner.latencySamples / (message.chunks ?? 1)), next, runner.settle);
          next += times.length;
          await send({ kind: 'latency', times });
        } else if (message.cmd === 'close') {
          await runner.close?.();
          resolve();
        }
      };
      run().catch(reject);
    });
    void send({ kind: 'ready' });
  });
}

const send = (message: unknown): Promise<void> =>
  new Promise((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else {
      console.log(JSON.stringify(message, null, 2));
      resolve();
    }
  });

main()
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    await send({ kind: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });
