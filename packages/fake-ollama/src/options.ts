/** Options accepted by {@link startFakeOllama}. */
export interface FakeOllamaOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default "127.0.0.1". */
  host?: string;
  /** Models the server knows (name[:tag]); others get 404. Default ["qwen2.5:0.5b", "llama3.2:latest", "nomic-embed-text:latest"]. */
  models?: string[];
  /** Delay before the first byte of every generate/chat/embed answer, in ms. Default 0. */
  latencyMs?: number;
  /** Tokens per second while streaming; 0 or Infinity = no pacing. Default 0. */
  tokensPerSecond?: number;
  /** Default number of tokens (words) in an answer when the request sets no num_predict. Default 12. */
  answerTokens?: number;
}

/** The models a server knows when no `models` option is given. */
export const DEFAULT_MODELS: readonly string[] = ['qwen2.5:0.5b', 'llama3.2:latest', 'nomic-embed-text:latest'];

/** The default number of words in an answer. */
export const DEFAULT_ANSWER_TOKENS = 12;

/** FakeOllamaOptions with every default filled in. */
export interface ResolvedOptions {
  /** Port to listen on. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** Known model names, as configured. */
  models: string[];
  /** Base latency in ms. */
  latencyMs: number;
  /** Streaming pace; 0 = none. */
  tokensPerSecond: number;
  /** Default answer length in words. */
  answerTokens: number;
}

/** Validates options and fills in defaults; throws a RangeError naming the bad option. */
export function resolveOptions(options: FakeOllamaOptions = {}): ResolvedOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer between 0 and 65535, got ${String(options.port)}`);
  }
  const models = options.models ?? [...DEFAULT_MODELS];
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m.trim() === '')) {
    throw new RangeError('models must be an array of non-empty strings');
  }
  return {
    port,
    host: options.host ?? '127.0.0.1',
    models: models.map((m) => m.trim()),
    latencyMs: checkLatency(options.latencyMs ?? 0),
    tokensPerSecond: checkTokensPerSecond(options.tokensPerSecond ?? 0),
    answerTokens: checkAnswerTokens(options.answerTokens ?? DEFAULT_ANSWER_TOKENS),
  };
}

/** Returns `ms` if it is a valid latency (finite, >= 0), else throws a RangeError. */
export function checkLatency(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${String(ms)}`);
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
