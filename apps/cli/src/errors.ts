/** Exit codes of the command. */
export const EXIT = {
  /** Success (also: Redis unreachable, the answer was served without the cache). */
  ok: 0,
  /** A runtime failure: Ollama unreachable, unknown model, a failed warm line... */
  failure: 1,
  /** A usage error: unknown flag, bad flag value, missing argument, refused confirmation. */
  usage: 2,
} as const;

/** An exit code of the command. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the command was called: printed as is, exit code 2. */
export class UsageError extends Error {
  /** Always 2. */
  readonly exitCode: ExitCode = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the command already knows how to explain: printed as is, with its exit code. */
export class CliError extends Error {
  /** The exit code to end with. */
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** What the command knows when it explains an error. */
export interface ErrorContext {
  /** The Ollama address in use. */
  ollamaHost: string;
  /** The model asked for, when there is one. */
  model?: string;
}

/** A message for the user (saying what to do) plus the exit code. */
export interface DescribedError {
  /** One line, without the "tinyllm: " prefix. */
  message: string;
  /** 1 or 2. */
  exitCode: ExitCode;
}

type Fields = { code?: unknown; status?: unknown; host?: unknown; message?: unknown; model?: unknown; timeoutMs?: unknown; cause?: unknown; error?: unknown };

const fieldsOf = (error: unknown): Fields => (typeof error === 'object' && error !== null ? (error as Fields) : {});

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** True when error (or one of its causes) is a refused, reset or unresolvable connection. */
function isNetworkFailure(error: unknown, depth = 0): boolean {
  if (depth > 4) return false;
  const { code, cause, message } = fieldsOf(error);
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (depth === 0 && error instanceof TypeError && message === 'fetch failed') return true;
  return cause !== undefined && isNetworkFailure(cause, depth + 1);
}

const plain = (value: unknown): string => (typeof value === 'string' ? value : value instanceof Error ? value.message : String(value));

/** Pulls the model name out of an Ollama "model 'x' not found" message. */
function modelFromMessage(message: string): string | undefined {
  return /model ['"]([^'"]+)['"] not found/i.exec(message)?.[1];
}

/**
 * Maps any error to a message that says what to do, and an exit code: the typed errors of
 * @tinyllm/ollama-cached and @tinyllm/cache-core are matched by their stable `code`.
 */
export function describeError(error: unknown, context: ErrorContext): DescribedError {
  if (error instanceof UsageError || error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const fields = fieldsOf(error);
  const host = typeof fields.host === 'string' && fields.host !== '' ? fields.host : context.ollamaHost;
  const message = plain(fields.message ?? error);
  switch (fields.code) {
    case 'TINYLLM_OLLAMA_UNREACHABLE':
      return { message: `cannot reach Ollama at ${host}: is \`ollama serve\` running?`, exitCode: EXIT.failure };
    case 'TINYLLM_OLLAMA_TIMEOUT': {
      const after = typeof fields.timeoutMs === 'number' ? ` within ${Math.round(fields.timeoutMs / 100) / 10} s` : ' in time';
      return { message: `Ollama at ${host} did not answer${after}: is the machine busy, or the model still loading? Try again.`, exitCode: EXIT.failure };
    }
    case 'TINYLLM_OLLAMA_HTTP': {
      if (fields.status === 404) {
        const model = (typeof fields.model === 'string' ? fields.model : undefined) ?? context.model ?? modelFromMessage(message) ?? '<model>';
        return { message: `model "${model}" not found at ${host}: pull it with \`ollama pull ${model}\``, exitCode: EXIT.failure };
      }
      const status = typeof fields.status === 'number' ? ` (HTTP ${fields.status})` : '';
      return { message: `Ollama at ${host} refused the request${status}: ${message}`, exitCode: EXIT.failure };
    }
    case 'TINYLLM_OLLAMA_STREAM':
      return { message: `the answer from Ollama at ${host} broke off: ${message}. Nothing was cached; try again.`, exitCode: EXIT.failure };
    case 'TINYLLM_INVALID_OPTION':
    case 'TINYLLM_INVALID_REQUEST':
      return { message, exitCode: EXIT.usage };
    case 'TINYLLM_MISSING_PACKAGE':
      return { message, exitCode: EXIT.failure };
    default:
      break;
  }
  // Errors of the official client (ResponseError carries status_code) or of fetch itself.
  const statusCode = (error as { status_code?: unknown } | null)?.status_code;
  if (statusCode === 404) {
    const model = context.model ?? modelFromMessage(message) ?? '<model>';
    return { message: `model "${model}" not found at ${host}: pull it with \`ollama pull ${model}\``, exitCode: EXIT.failure };
  }
  if (isNetworkFailure(error)) return { message: `cannot reach Ollama at ${host}: is \`ollama serve\` running?`, exitCode: EXIT.failure };
  return { message: `unexpected error: ${message}`, exitCode: EXIT.failure };
}
