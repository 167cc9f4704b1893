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

/** The answer to a y/N question: yes, no, or interrupted (Ctrl-C). */
export type Answer = 'yes' | 'no' | 'interrupted';

/**
 * Asks a y/N question on stderr and reads the answer from stdin; anything but y/yes is no. Ctrl-C
 * is "interrupted": on a terminal readline reads it as a key (its 'SIGINT' event; without a
 * listener it would just close, which read as "no"), and a SIGINT signal counts the same.
 */
export async function askYesNo(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<Answer> {
  const rl = createInterface({ input, output });
  let onSignal = (): void => {};
  try {
    return await new Promise<Answer>((resolve) => {
      onSignal = () => resolve('interrupted');
      rl.once('SIGINT', onSignal);
      process.once('SIGINT', onSignal);
      rl.once('close', () => resolve('no'));
      rl.question(question, (answer) => resolve(/^y(es)?$/i.test(answer.trim()) ? 'yes' : 'no'));
    });
  } finally {
    process.off('SIGINT', onSignal);
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
      const answer = await askYesNo(`Remove ${entries(count)} from the ${opened.kind} cache at ${opened.location}? [y/N] `);
      if (answer !== 'yes') {
        // After ^C the cursor still sits on the prompt line.
        output.info(answer === 'interrupted' ? '\ninterrupted: nothing removed' : 'cancelled: nothing removed');
        return answer === 'interrupted' ? EXIT.interrupted : EXIT.ok;
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
