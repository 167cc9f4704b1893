import { createInterface } from 'node:readline';
import { DEFAULTS } from '../config.js';
import { describeError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatCount } from '../format.js';
import { closeQuietly, openExistingStore, sqlitePathOf } from '../open-cache.js';
import type { CommandContext } from '../program.js';

/** Options of `tinyllm cache-clear` (besides the store options in the context). */
export interface CacheClearOptions {
  /** False with --no-confirm: clear without asking. */
  confirm?: boolean;
  /** Print {"removed": n, ...} as JSON. */
  json?: boolean;
}

/** Asks a y/N question on stderr and reads the answer from stdin; anything but y/yes is no. */
export async function askYesNo(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<boolean> {
  const rl = createInterface({ input, output });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question(question, resolve);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const entries = (n: number): string => `${formatCount(n)} ${n === 1 ? 'entry' : 'entries'}`;

/** `tinyllm cache-clear`: removes this cache's entries (after confirmation on a terminal) and says how many went. */
export async function cacheClearCommand(options: CacheClearOptions, context: CommandContext): Promise<ExitCode> {
  const { output, cache } = context;
  const confirm = options.confirm !== false;
  if (confirm && !output.stdinIsTTY) {
    throw new UsageError('refusing to clear the cache without confirmation: stdin is not a terminal. Add --no-confirm to clear it anyway.');
  }
  const report = (removed: number, location: string): ExitCode => {
    if (options.json) output.json({ removed, backend: cache.backend, location });
    else output.line(`removed ${entries(removed)} from the ${cache.backend} cache at ${location}`);
    return EXIT.ok;
  };

  const existing = await openExistingStore(cache, output);
  if (existing.kind === 'failed') return EXIT.failure;
  if (existing.kind === 'missing') return report(0, await sqlitePathOf(cache));
  const { opened } = existing;
  const store = { kind: opened.kind, location: opened.location };
  try {
    if (opened.kind === 'memory') {
      output.info(output.err.dim('note: the memory backend lives inside one process: there is nothing stored to clear'));
      return report(0, opened.location);
    }
    if (confirm) {
      const { entries: count } = await opened.stats();
      if (count === 0) return report(0, opened.location);
      const yes = await askYesNo(`Remove ${entries(count)} from the ${opened.kind} cache at ${opened.location}? [y/N] `);
      if (!yes) {
        output.info('cancelled: nothing removed');
        return EXIT.ok;
      }
    }
    return report(await opened.backend.clear(), opened.location);
  } catch (error) {
    // A damaged or locked SQLite file, a Redis server that failed after connecting...
    const described = describeError(error, { ollamaHost: DEFAULTS.ollamaHost, store });
    output.error(described.message);
    return described.exitCode;
  } finally {
    await closeQuietly(opened);
  }
}
