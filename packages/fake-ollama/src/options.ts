import { FAKE_VERSION } from './handlers/info.js';
import type { ModelSpec } from './models.js';

/** Options accepted by {@link startFakeOllama}. */
export interface FakeOllamaOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. @default "127.0.0.1" */
  host?: string;
  /** Models the server knows, as names (`name[:tag]`) or specs with capabilities; others get 404. @default DEFAULT_MODELS */
  models?: Array<string | ModelSpec>;
  /** Delay before the first byte of every model answer, in ms. @default 0 */
  latencyMs?: number;
  /** Tokens per second while streaming; 0 or Infinity = no pacing. @default 0 */
  tokensPerSecond?: number;
  /** Number of tokens (words) in an answer when the request sets no num_predict. @default 12 */
  answerTokens?: number;
  /** Enforce Ollama's Origin (CORS) guard, and its Host guard when bound to a loopback address; false turns both off. @default true */
  guards?: boolean;
  /** Allowed browser origins besides Ollama's built-in local ones, like OLLAMA_ORIGINS. @default the OLLAMA_ORIGINS environment variable, split on commas */
  origins?: string[];
  /** Delay between two progress lines of /api/pull, /api/push and /api/create, in ms (Ollama reports every 60 ms). @default 60 */
  pullIntervalMs?: number;
  /** Progress lines per layer of a pull or push (after the first at 0 bytes). @default 4 */
  pullSteps?: number;
  /** The version GET /api/version reports. @default "0.33.0" */
  version?: string;
}

/** The models a server knows when no `models` option is given: one of each kind. */
export const DEFAULT_MODELS: readonly string[] = ['qwen2.5:0.5b', 'llama3.2:latest', 'nomic-embed-text:latest', 'qwen3:0.6b', 'llava:7b', 'qwen2.5-coder:0.5b'];

/** The default number of words in an answer. */
export const DEFAULT_ANSWER_TOKENS = 12;

/** The default delay between pull progress lines, in ms (Ollama's progress ticker). */
export const DEFAULT_PULL_INTERVAL_MS = 60;

/** FakeOllamaOptions with every default filled in. */
export interface ResolvedOptions {
  /** Port to listen on. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** Known models, as configured. */
  models: Array<string | ModelSpec>;
  /** Base latency in ms. */
  latencyMs: number;
  /** Streaming pace; 0 = none. */
  tokensPerSecond: number;
  /** Default answer length in words. */
  answerTokens: number;
  /** Whether the guards are on. */
  guards: boolean;
  /** Configured origins (without the built-in ones). */
  origins: string[] | undefined;
  /** Delay between progress lines, in ms. */
  pullIntervalMs: number;
  /** Progress lines per layer. */
  pullSteps: number;
  /** Reported version. */
  version: string;
}

/** Validates options and fills in defaults; throws a RangeError naming the bad option. */
export function resolveOptions(options: FakeOllamaOptions = {}): ResolvedOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer between 0 and 65535, got ${String(options.port)}`);
  }
  const models = options.models ?? [...DEFAULT_MODELS];
  const nameOf = (m: string | ModelSpec): unknown => (typeof m === 'string' ? m : m?.name);
  if (!Array.isArray(models) || models.some((m) => typeof nameOf(m) !== 'string' || (nameOf(m) as string).trim() === '')) {
    throw new RangeError('models must be an array of non-empty model names or { name, capabilities? } specs');
  }
  if (options.origins !== undefined && (!Array.isArray(options.origins) || options.origins.some((o) => typeof o !== 'string'))) {
    throw new RangeError('origins must be an array of strings');
  }
  const pullSteps = options.pullSteps ?? 4;
  if (!Number.isInteger(pullSteps) || pullSteps < 1) throw new RangeError(`pullSteps must be an integer >= 1, got ${String(options.pullSteps)}`);
  const version = options.version ?? FAKE_VERSION;
  if (typeof version !== 'string' || version.trim() === '') throw new RangeError('version must be a non-empty string');
  return {
    port,
    host: options.host ?? '127.0.0.1',
    models: models.map((m) => (typeof m === 'string' ? m.trim() : m)),
    latencyMs: checkLatency(options.latencyMs ?? 0),
    tokensPerSecond: checkTokensPerSecond(options.tokensPerSecond ?? 0),
    answerTokens: checkAnswerTokens(options.answerTokens ?? DEFAULT_ANSWER_TOKENS),
    guards: options.guards ?? true,
    origins: options.origins,
    pullIntervalMs: checkPullInterval(options.pullIntervalMs ?? DEFAULT_PULL_INTERVAL_MS),
    pullSteps,
    version,
  };
}

/** Returns `ms` if it is a valid latency (finite, >= 0), else throws a RangeError. */
export function checkLatency(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${String(ms)}`);
  }
  return ms;
}

/** Returns `ms` if it is a valid pull interval (finite, >= 0), else throws a RangeError. */
export function checkPullInterval(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`pullIntervalMs must be a finite number >= 0, got ${String(ms)}`);
  }
  return ms;
}

/** Returns a valid tokens-per-second value (Infinity becomes 0 = no pacing), else throws a RangeError. */
export function checkTokensPerSecond(tps: number): number {
  if (typeof tps !== 'number' || Number.isNaN(tps) || tps < 0) {
    throw new RangeError(`tokensPerSecond must be a number >= 0, got ${String(tps)}`);
  }
  return tps === Number.POSITIVE_INFINITY ? 0 : tps;
}

/** Returns `n` if it is a valid answer length (integer >= 1), else throws a RangeError. */
export function checkAnswerTokens(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`answerTokens must be an integer >= 1, got ${String(n)}`);
  }
  return n;
}
