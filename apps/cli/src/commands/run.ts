import type { CacheInfo } from '@tinyllm/ollama-cached';
import { ask, type CacheState, type JsonObject, openSession } from '../client.js';
import { type OutputFormat, resolveOllamaHost } from '../config.js';
import { describeError, EXIT, type ExitCode, UsageError } from '../errors.js';
import { formatDuration, formatTtl } from '../format.js';
import type { Colors } from '../output.js';
import type { CommandContext } from '../program.js';
import { readInput } from '../read-input.js';

/** Options of `tinyllm run` (besides the store options in the context). */
export interface RunOptions {
  /** --model. */
  model: string;
  /** --system. */
  system?: string;
  /** --temperature. */
  temperature?: number;
  /** --max-tokens (num_predict). */
  maxTokens?: number;
  /** --json: ask for a JSON answer (format "json"). */
  json?: boolean;
  /** --force-refresh. */
  forceRefresh?: boolean;
  /** --ollama-host or TINYLLM_OLLAMA_HOST, already normalised. */
  ollamaHost?: string;
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
}

/** The cache part of --output json. */
export function cacheReport(info: CacheInfo): CacheReport {
  return {
    status: info.status,
    key: info.key === '' ? null : info.key,
    ageMs: info.ageMs ?? null,
    savedMs: info.savedDurationNs === undefined ? null : Math.round(info.savedDurationNs / 1e6),
  };
}

/**
 * The stderr line that says where the answer came from, e.g. "cache hit · saved 2.1 s". `stored`
 * false (the store rejected the write) drops the "stored for ..." claim of a miss or refresh.
 */
export function statusLine(info: CacheInfo, state: CacheState, ttl: number | null, elapsedMs: number, c: Colors, stored = true): string {
  const dot = c.dim(' · ');
  const took = `answered in ${formatDuration(elapsedMs)}`;
  const storedFor = ttl === null ? 'stored without expiry' : `stored for ${formatTtl(ttl)}`;
  const kept = stored ? `${dot}${storedFor}` : `${dot}not stored`;
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
  }
}

/** Builds the generate request from the prompt and the flags. */
export function buildRequest(prompt: string, options: RunOptions): JsonObject & { model: string; prompt: string } {
  const request: JsonObject & { model: string; prompt: string } = { model: options.model, prompt };
  if (options.system !== undefined) request.system = options.system;
  if (options.json) request.format = 'json';
  const modelOptions: JsonObject = {};
  if (options.temperature !== undefined) modelOptions.temperature = options.temperature;
  if (options.maxTokens !== undefined) modelOptions.num_predict = options.maxTokens;
  if (Object.keys(modelOptions).length > 0) request.options = modelOptions;
  return request;
}

/** `tinyllm run PROMPT`: one answer, from the cache when it is there, streamed on a terminal. */
export async function runCommand(promptArg: string, options: RunOptions, context: CommandContext): Promise<ExitCode> {
  const { output, env, cache } = context;
  const prompt = promptArg === '-' ? await readInput('-', 'the prompt') : promptArg;
  if (prompt.trim() === '') throw new UsageError('the prompt is empty: give the question as an argument, e.g. tinyllm run "Why is the sky blue?"');
  const ollamaHost = resolveOllamaHost(options.ollamaHost, env);
  const streaming = options.output === 'text' && output.stdoutIsTTY;

  const session = await openSession(cache, ollamaHost, output);
  if (session.cache?.kind === 'memory') {
    output.info(output.err.dim('note: the memory cache ends with this process; use --cache-backend sqlite or redis to hit across runs'));
  }
  const started = performance.now();
  let answer: Awaited<ReturnType<typeof ask>>;
  let endsWithNewline = true;
  let elapsedMs = 0;
  try {
    answer = await ask(
      session,
      { kind: 'generate', request: buildRequest(prompt, options) },
      {
        ...(options.forceRefresh ? { forceRefresh: true } : {}),
        ...(streaming
          ? {
              onText: (text: string) => {
                output.print(text);
                endsWithNewline = text.endsWith('\n');
              },
            }
          : {}),
      },
    );
    // Before close(): waiting for the write to land (or fail) is not answering time.
    elapsedMs = performance.now() - started;
  } catch (error) {
    // stdout's reader went away mid-stream and the session was closed under the stream: end quietly.
    if (output.stdoutClosed) return EXIT.ok;
    if (!endsWithNewline) output.print('\n');
    const described = describeError(error, { ollamaHost, model: options.model });
    output.error(described.message);
    return described.exitCode;
  } finally {
    await session.close();
  }
  // The cache fails open: a write the store rejected still gave an answer. Say so rather than "stored for".
  const wrote = answer.info.status === 'miss' || answer.info.status === 'refresh';
  const writeFailure = wrote ? session.writeFailure(answer.info.key) : undefined;

  if (options.output === 'json') {
    output.json({ ...answer.response, cache: cacheReport(answer.info) });
  } else if (streaming) {
    if (!endsWithNewline) output.print('\n');
  } else {
    output.print(answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
  }
  output.info(statusLine(answer.info, session.state, cache.ttl, elapsedMs, output.err, writeFailure === undefined));
  if (writeFailure !== undefined) {
    const hint = writeFailure.hint === undefined ? '' : `; ${writeFailure.hint}`;
    output.warn(`the cache store failed (${writeFailure.message}): the answer was not stored${hint}`);
  }
  return EXIT.ok;
}
