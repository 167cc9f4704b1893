import { ask, openSession, type Session } from '../client.js';
import { type OutputFormat, resolveOllamaHost } from '../config.js';
import { describeError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatCount, formatDuration } from '../format.js';
import type { Output } from '../output.js';
import type { CommandContext } from '../program.js';
import { readInput } from '../read-input.js';
import { parseWarmInput, type WarmLineError, type WarmRequest } from '../warm-input.js';

/** Options of `tinyllm warm` (besides the store options in the context). */
export interface WarmOptions {
  /** Model of lines that name none. */
  model: string;
  /** --ollama-host or TINYLLM_OLLAMA_HOST, already normalised. */
  ollamaHost?: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Re-ask the model even for lines already cached. */
  forceRefresh?: boolean;
  /** Summary format. */
  output: OutputFormat;
  /** --timeout-ms: the deadline of each Ollama request. */
  timeoutMs?: number;
}

/** What warm did (also its --output json shape). */
export interface WarmSummary {
  /** Requests read (good and bad lines). */
  total: number;
  /** Answers fetched from the model and stored. */
  warmed: number;
  /** Lines whose answer was in the cache already (or repeated an earlier line). */
  alreadyCached: number;
  /** Lines that failed. */
  failed: number;
  /** Each failure with its 1-based line number, in line order. */
  failures: WarmLineError[];
  /** Why nothing could be warmed (the cache store is unavailable), else null. */
  error: string | null;
  /** True when Ctrl-C (SIGINT) stopped the run: lines in flight count as failed ("interrupted"), the rest as not tried. */
  interrupted: boolean;
  /** Wall time in ms. */
  elapsedMs: number;
}

/** A line whose answer the cache was to store (miss, refresh) or shared with an identical line being stored (coalesced). */
interface PendingWrite {
  line: number;
  key: string;
  status: 'warmed' | 'alreadyCached';
}

/** A progress display: a bar on a terminal, nothing elsewhere. */
interface Progress {
  tick(): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { tick: () => {}, stop: () => {} };

async function progressBar(total: number, output: Output): Promise<Progress> {
  if (!output.stderrIsTTY || total === 0) return NO_PROGRESS;
  // Loaded only on a terminal: scripts never pay for it.
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const bar = new SingleBar(
    {
      format: 'warming {bar} {value}/{total} · {percentage}% · eta {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
      // Also draw when only TINYLLM_TTY says this is a terminal (screen recorders, tests).
      noTTYOutput: true,
      notTTYSchedule: 250,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

/** Runs work over items with at most `limit` in flight; once `stop()` was called (or `stopped()` holds) the workers take no new items. Resolves the items never started. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, stop: () => void) => Promise<void>, stopped: () => boolean): Promise<T[]> {
  let next = 0;
  let stopRequested = false;
  const stop = (): void => {
    stopRequested = true;
  };
  const worker = async (): Promise<void> => {
    while (!stopRequested && !stopped() && next < items.length) {
      const item = items[next++] as T;
      await work(item, stop);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return items.slice(next);
}

const plural = (n: number, one: string, many: string): string => `${formatCount(n)} ${n === 1 ? one : many}`;

/** "3", "3-5", "3-5, 9" for sorted line numbers. */
function lineRanges(lines: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && (lines[j + 1] as number) === (lines[j] as number) + 1) j++;
    ranges.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return ranges.join(', ');
}

/**
 * The failures as lines of text, one per distinct reason (in order of its first line): "line 3:
 * invalid JSON ..." or "lines 4-9, 12 (7 lines): not tried: cannot reach Ollama ...". A run that
 * lost Ollama midway says so once, not once per remaining line.
 */
export function failureLines(failures: readonly WarmLineError[]): string[] {
  const byReason = new Map<string, number[]>();
  for (const failure of [...failures].sort((a, b) => a.line - b.line)) {
    const lines = byReason.get(failure.reason);
    if (lines === undefined) byReason.set(failure.reason, [failure.line]);
    else lines.push(failure.line);
  }
  return [...byReason].map(([reason, lines]) =>
    lines.length === 1 ? `  line ${lines[0]}: ${reason}` : `  lines ${lineRanges(lines)} (${formatCount(lines.length)} lines): ${reason}`,
  );
}

/** The human-readable summary. */
export function renderSummary(summary: WarmSummary, output: Output): string {
  const c = output.out;
  const head = [
    `${c.green(`warmed ${formatCount(summary.warmed)}`)}`,
    `already cached ${formatCount(summary.alreadyCached)}`,
    summary.failed > 0 ? c.red(`failed ${formatCount(summary.failed)}`) : 'failed 0',
  ].join(c.dim(' · '));
  const tail = `${plural(summary.total, 'request', 'requests')} in ${formatDuration(summary.elapsedMs)}${summary.interrupted ? ', interrupted' : ''}`;
  return [`${head} ${c.dim(`(${tail})`)}`, ...failureLines(summary.failures)].join('\n');
}

/** Ctrl-C during warm: the first SIGINT stops the run (a summary follows), a second one ends the process at once. */
interface Interruption {
  /** True once SIGINT arrived. */
  readonly interrupted: boolean;
  /** Rejects with INTERRUPTED when SIGINT arrives (never resolves). */
  readonly signal: Promise<never>;
  /** Removes the handlers. */
  dispose(): void;
}

const INTERRUPTED = Symbol('interrupted');

function onInterrupt(onFirst: () => void): Interruption {
  let interrupted = false;
  let reject: (reason: unknown) => void = () => {};
  const signal = new Promise<never>((_, r) => {
    reject = r;
  });
  signal.catch(() => {});
  const again = (): void => process.exit(EXIT.interrupted);
  const first = (): void => {
    interrupted = true;
    process.once('SIGINT', again);
    onFirst();
    reject(INTERRUPTED);
  };
  process.once('SIGINT', first);
  return {
    get interrupted() {
      return interrupted;
    },
    signal,
    dispose: () => {
      process.off('SIGINT', first);
      process.off('SIGINT', again);
    },
  };
}

async function warmAll(
  session: Session,
  requests: WarmRequest[],
  options: WarmOptions,
  ollamaHost: string,
  progress: Progress,
  summary: WarmSummary,
  writes: PendingWrite[],
): Promise<void> {
  const interruption = onInterrupt(() => {
    // In-flight calls end now (nothing partial is stored); their lines count as interrupted.
    session.client.abort();
  });
  let lostOllama = false;
  try {
    const unreached = await pool(
      requests,
      options.concurrency,
      async (item, stop) => {
        try {
          const answer = await Promise.race([ask(session, item, options.forceRefresh ? { forceRefresh: true } : {}), interruption.signal]);
          const { status, key } = answer.info;
          if (status === 'hit') summary.alreadyCached++;
          else if (status === 'bypass') summary.failures.push({ line: item.line, reason: 'the answer was not cached' });
          else if (status === 'coalesced') {
            summary.alreadyCached++;
            writes.push({ line: item.line, key, status: 'alreadyCached' });
          } else {
            summary.warmed++;
            writes.push({ line: item.line, key, status: 'warmed' });
          }
        } catch (error) {
          if (interruption.interrupted) {
            summary.failures.push({ line: item.line, reason: 'interrupted (Ctrl-C) while the model was answering' });
            return;
          }
          summary.failures.push({ line: item.line, reason: describeError(error, { ollamaHost, model: item.request.model }).message });
          // Without Ollama every other line would fail the same way, one timeout after another.
          if ((error as { code?: unknown } | null)?.code === 'TINYLLM_OLLAMA_UNREACHABLE') {
            lostOllama = true;
            stop();
          }
        } finally {
          progress.tick();
        }
      },
      () => interruption.interrupted,
    );
    const why = interruption.interrupted && !lostOllama ? 'interrupted (Ctrl-C)' : `cannot reach Ollama at ${ollamaHost}`;
    for (const item of unreached) {
      summary.failures.push({ line: item.line, reason: `not tried: ${why}` });
      progress.tick();
    }
  } finally {
    summary.interrupted = interruption.interrupted;
    interruption.dispose();
  }
}

/** `tinyllm warm FILE`: asks every request of the file with bounded concurrency so later runs hit the cache. */
export async function warmCommand(file: string, options: WarmOptions, context: CommandContext): Promise<ExitCode> {
  const { output, env, cache } = context;
  if (!cache.enabled) throw new UsageError('warm fills the cache, so it cannot run with --no-cache (or TINYLLM_CACHE=false)');
  const ollamaHost = resolveOllamaHost(options.ollamaHost, env);
  const text = await readInput(file, 'the requests file');
  const { requests, errors } = parseWarmInput(text, { model: options.model });
  const started = performance.now();
  const summary: WarmSummary = {
    total: requests.length + errors.length,
    warmed: 0,
    alreadyCached: 0,
    failed: 0,
    failures: [...errors],
    error: null,
    interrupted: false,
    elapsedMs: 0,
  };

  if (requests.length > 0) {
    const session = await openSession(cache, ollamaHost, output, {
      warnUnavailable: false,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const writes: PendingWrite[] = [];
    try {
      if (session.state === 'unavailable') {
        summary.error = `nothing warmed: ${session.unavailableReason ?? 'the cache store is not available'}`;
        output.error(summary.error);
        // Text mode says it all in that line; --output json still gets its summary (every line failed, not tried).
        if (options.output !== 'json') return EXIT.failure;
        for (const item of requests) summary.failures.push({ line: item.line, reason: 'not tried: the cache store is not available' });
      } else {
        if (session.cache?.kind === 'memory') output.warn('the memory cache ends with this process: warming it is only a dry run; use sqlite or redis');
        const progress = await progressBar(summary.total, output);
        for (let i = 0; i < errors.length; i++) progress.tick();
        try {
          await warmAll(session, requests, options, ollamaHost, progress, summary, writes);
        } finally {
          progress.stop();
        }
      }
    } finally {
      await session.close();
    }
    // The cache fails open: an answer whose write the store rejected was served all the same. Only
    // now, with every write landed or failed, can a line count as warmed.
    for (const write of writes) {
      const failure = session.writeFailure(write.key);
      if (failure === undefined) continue;
      summary[write.status]--;
      summary.failures.push({ line: write.line, reason: `the answer was not stored: the cache store failed (${failure.message})` });
    }
  }

  summary.failures.sort((a, b) => a.line - b.line);
  summary.failed = summary.failures.length;
  summary.elapsedMs = Math.round(performance.now() - started);
  if (options.output === 'json') output.json(summary);
  else if (summary.total === 0) output.line(`nothing to warm: ${file === '-' ? 'stdin' : file} has no requests`);
  else output.line(renderSummary(summary, output));
  if (summary.interrupted) return EXIT.interrupted;
  return summary.failed > 0 ? EXIT.failure : EXIT.ok;
}
