import type { CacheInfo } from '@tinyllm/ollama-cached';
import { type Answer, type AskRequest, ask, type CacheState, openSession } from './client.js';
import { type OutputFormat, resolveOllamaHost } from './config.js';
import { describeError, EXIT, type ExitCode } from './errors.js';
import { formatDuration, formatTtl } from './format.js';
import { type ModelFlags, modelFields } from './model-options.js';
import type { Colors } from './output.js';
import type { CommandContext } from './program.js';

/** The flags run and chat share (besides the store options in the context). */
export interface AnswerFlags extends ModelFlags {
  /** --model. */
  model: string;
  /** --system. */
  system?: string;
  /** --image, in the order given. */
  image?: string[];
  /** --force-refresh. */
  forceRefresh?: boolean;
  /** False with --no-store: the answer is not written (one already stored is still served). */
  store?: boolean;
  /** --ollama-host or TINYLLM_OLLAMA_HOST, already normalised. */
  ollamaHost?: string;
  /** --timeout-ms: the deadline of each Ollama request. */
  timeoutMs?: number;
  /** --output. */
  output: OutputFormat;
}

/** The `cache` object `--output json` adds to the response. */
export interface CacheReport {
  /** hit, miss, refresh, coalesced or bypass. */
  status: CacheInfo['status'];
  /** The cache key (null when the cache was not used). */
  key: string | null;
  /** Age of the cached answer in ms (hits only, else null). */
  ageMs: number | null;
  /** Model time the hit saved in ms (hits only, else null). */
  savedMs: number | null;
  /**
   * Whether this call's answer was written to the store: true or false for a miss or a refresh
   * (false: --no-store, or the store rejected the write), false when the cache was not used, null
   * for a hit (nothing to write).
   */
  stored: boolean | null;
}

/** The cache part of --output json. */
export function cacheReport(info: CacheInfo, stored: boolean | null): CacheReport {
  return {
    status: info.status,
    key: info.key === '' ? null : info.key,
    ageMs: info.ageMs ?? null,
    savedMs: info.savedDurationNs === undefined ? null : Math.round(info.savedDurationNs / 1e6),
    stored,
  };
}

/** Why a miss or refresh was not stored: --no-store, or the store rejected the write (undefined: it was stored). */
export type NotStored = 'no-store' | 'failed' | undefined;

/**
 * The stderr line that says where the answer came from, e.g. "cache hit · saved 2.1 s". A miss or
 * refresh that was not stored says so instead of "stored for ...".
 */
export function statusLine(info: CacheInfo, state: CacheState, ttl: number | null, elapsedMs: number, c: Colors, notStored: NotStored = undefined): string {
  const dot = c.dim(' · ');
  const took = `answered in ${formatDuration(elapsedMs)}`;
  const storedFor = ttl === null ? 'stored without expiry' : `stored for ${formatTtl(ttl)}`;
  const kept = `${dot}${notStored === 'no-store' ? 'not stored (--no-store)' : notStored === 'failed' ? 'not stored' : storedFor}`;
  switch (info.status) {
    case 'hit': {
      const saved = info.savedDurationNs === undefined ? '' : `${dot}saved ${formatDuration(info.savedDurationNs / 1e6)}`;
      const age = info.ageMs === undefined ? '' : c.dim(` (cached ${formatDuration(info.ageMs)} ago)`);
      return `${c.green('cache hit')}${saved}${age}`;
    }
    case 'miss':
      return `${c.yellow('cache miss')}${dot}${took}${kept}`;
    case 'coalesced':
      return `${c.yellow('cache miss')} (shared an identical request)${dot}${took}`;
    case 'refresh':
      return `${c.cyan('cache refreshed')}${dot}${took}${kept}`;
    case 'bypass':
      return `${c.dim(state === 'off' ? 'cache off (--no-cache)' : 'cache unavailable')}${dot}${took}`;
    case 'stale': {
      const age = info.ageMs === undefined ? '' : ` (cached ${formatDuration(info.ageMs)} ago)`;
      return `${c.yellow('stale answer')}: the model failed, an expired answer was served (--stale-if-error)${c.dim(age)}`;
    }
  }
}

/**
 * Asks one request (run's generate, chat's conversation) and prints it: streamed on a terminal,
 * whole otherwise, or as JSON with the cache details; the status line and any store warning go to
 * stderr. The request already carries the model, the prompt or messages and the images; the model
 * flags (options, format, think) are added here.
 */
export async function answerOne(request: AskRequest, flags: AnswerFlags, context: CommandContext): Promise<ExitCode> {
  const { output, env, cache } = context;
  const fields = modelFields(flags);
  const ollamaHost = resolveOllamaHost(flags.ollamaHost, env);
  const streaming = flags.output === 'text' && output.stdoutIsTTY;
  const noStore = flags.store === false;

  const session = await openSession(cache, ollamaHost, output, flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs });
  if (session.cache?.kind === 'memory') {
    output.info(output.err.dim('note: the memory cache ends with this process; use --cache-backend sqlite or redis to hit across runs'));
  }
  const started = performance.now();
  let answer: Answer;
  let endsWithNewline = true;
  let thinkingOpen = false;
  let elapsedMs = 0;
  try {
    answer = await ask(session, { ...request, request: { ...request.request, ...fields } } as AskRequest, {
      ...(flags.forceRefresh ? { forceRefresh: true } : {}),
      ...(noStore ? { noStore: true } : {}),
      ...(streaming
        ? {
            onThinking: (text: string) => {
              thinkingOpen = true;
              output.printErr(output.err.dim(text));
            },
            onText: (text: string) => {
              if (thinkingOpen) {
                output.printErr('\n');
                thinkingOpen = false;
              }
              output.print(text);
              endsWithNewline = text.endsWith('\n');
            },
          }
        : {}),
    });
    // Before close(): waiting for the write to land (or fail) is not answering time.
    elapsedMs = performance.now() - started;
  } catch (error) {
    // stdout's reader went away mid-stream and the session was closed under the stream: end quietly.
    if (output.stdoutClosed) return EXIT.ok;
    if (thinkingOpen) output.printErr('\n');
    if (!endsWithNewline) output.print('\n');
    const described = describeError(error, { ollamaHost, model: request.request.model });
    output.error(described.message);
    return described.exitCode;
  } finally {
    await session.close();
  }
  if (thinkingOpen) output.printErr('\n');
  // The cache fails open: a write the store rejected still gave an answer. Say so rather than "stored for".
  const wrote = answer.info.status === 'miss' || answer.info.status === 'refresh';
  const writeFailure = wrote && !noStore ? session.writeFailure(answer.info.key) : undefined;
  const notStored: NotStored = !wrote ? undefined : noStore ? 'no-store' : writeFailure === undefined ? undefined : 'failed';

  if (flags.output === 'json') {
    const stored = answer.info.status === 'bypass' ? false : wrote ? notStored === undefined : null;
    output.json({ ...answer.response, cache: cacheReport(answer.info, stored) });
  } else if (streaming) {
    if (!endsWithNewline) output.print('\n');
  } else {
    if (answer.thinking !== '') output.info(output.err.dim(answer.thinking.trimEnd()));
    output.print(answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
  }
  output.info(statusLine(answer.info, session.state, cache.ttl, elapsedMs, output.err, notStored));
  if (writeFailure !== undefined) {
    const hint = writeFailure.hint === undefined ? '' : `; ${writeFailure.hint}`;
    output.warn(`the cache store failed (${writeFailure.message}): the answer was not stored${hint}`);
  }
  return EXIT.ok;
}
