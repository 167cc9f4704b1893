/** Exit codes of the command. */
export const EXIT = {
  /** Success (also: Redis unreachable, the answer was served without the cache). */
  ok: 0,
  /** A runtime failure: Ollama unreachable, unknown model, a failed warm line... */
  failure: 1,
  /** A usage error: unknown flag, bad flag value, missing argument, refused confirmation. */
  usage: 2,
  /** Interrupted (Ctrl-C, SIGINT): 128 + 2, as a shell reports a command that SIGINT ended. */
  interrupted: 130,
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

/** The cache store a command was using, for messages about its failures. */
export interface StoreContext {
  /** sqlite, redis or memory. */
  kind: string;
  /** The SQLite file, Redis host:port, or "this process". */
  location: string;
}

/** What the command knows when it explains an error. */
export interface ErrorContext {
  /** The Ollama address in use. */
  ollamaHost: string;
  /** The model asked for, when there is one. */
  model?: string;
  /** The cache store in use, when the error may come from it. */
  store?: StoreContext;
}

/** A message for the user (saying what to do) plus the exit code. */
export interface DescribedError {
  /** One line, without the "tinyllm: " prefix. */
  message: string;
  /** 1 or 2. */
  exitCode: ExitCode;
}

type Fields = {
  code?: unknown;
  status?: unknown;
  host?: unknown;
  message?: unknown;
  model?: unknown;
  timeoutMs?: unknown;
  cause?: unknown;
  error?: unknown;
  backend?: unknown;
  operation?: unknown;
};

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

/**
 * Ollama's own "model not found" error text: `model 'x' not found` (generate, chat, show) or
 * `model "x" not found, try pulling it first` (embed). Only that text means "pull it": any other
 * 404 comes from something else (another server, or a path prefix in --ollama-host). Returns the
 * model it names ('' when the request named none), or undefined for any other text.
 */
export function modelNotFound(message: string): string | undefined {
  return /^model ['"]([^'"]*)['"] not found/i.exec(message.trim())?.[1];
}

/** Text for the end of a message: one line, at most 160 characters, without a trailing period (the caller adds its own). */
export function clause(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const short = line.length > 160 ? `${line.slice(0, 157)}...` : line;
  return short.replace(/(?<!\.)\.$/, '');
}

/** An HTTP error from a server that is not Ollama: an HTML page, or a 404 without Ollama's model text. */
function describeForeignReply(host: string, status: number | undefined, body: string): string {
  const what = status === undefined ? 'an error' : `HTTP ${status}`;
  const detail = /^\s*</.test(body) ? 'an HTML page' : clause(body);
  return `${host} answered ${what} (${detail}): is this an Ollama server? Check --ollama-host (e.g. http://127.0.0.1:11434)`;
}

/** The codes of an error and its causes (TINYLLM_*, SQLITE_*, ECONNREFUSED...). */
function codesOf(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== 'object' || error === null) return [];
  const { code, cause } = fieldsOf(error);
  return [...(typeof code === 'string' ? [code] : []), ...codesOf(cause, depth + 1)];
}

/** A path as it can be pasted into a shell. */
const shellQuote = (path: string): string => (/^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`);

/** A store failure's message and, when one helps, what to do about it. */
export interface StoreFailure {
  /** What failed, e.g. "the SQLite cache at /x/cache.sqlite is damaged (database disk image is malformed)". */
  message: string;
  /** What to do, e.g. "delete it (rm /x/cache.sqlite) to start afresh". */
  hint?: string;
}

/**
 * Explains a failure of the cache store (BackendError, CacheDecodeError, CacheTimeoutError or a
 * driver error): a damaged SQLite file (delete it), a locked one (try again), one that cannot be
 * written, or the Redis server that failed.
 */
export function describeStoreFailure(error: unknown, store?: StoreContext): StoreFailure {
  const fields = fieldsOf(error);
  const codes = codesOf(error);
  const cause = fieldsOf(fields.cause);
  // The driver's own words ("database disk image is malformed"), without the path the message repeats.
  let detail = plain(cause.message ?? fields.message ?? error);
  if (cause.message === undefined) detail = detail.replace(/^\w+ backend: \w+ (failed|did not answer[^:]*): /, '');
  if (store !== undefined) detail = detail.replace(`${store.location}: `, '');
  const kind = typeof fields.backend === 'string' ? fields.backend : (store?.kind ?? (codes.some((c) => c.startsWith('SQLITE_')) ? 'sqlite' : undefined));
  const operation = typeof fields.operation === 'string' ? fields.operation : undefined;
  const text = `${plain(fields.message ?? '')} ${detail}`;
  const is = (prefixes: string[], pattern: RegExp): boolean => codes.some((c) => prefixes.some((p) => c.startsWith(p))) || pattern.test(text);

  if (kind === 'sqlite') {
    const path = store?.location;
    const where = path === undefined ? 'the SQLite cache' : `the SQLite cache at ${path}`;
    if (is(['SQLITE_CORRUPT', 'SQLITE_NOTADB'], /malformed|not a database|corrupt/i) || fields.code === 'TINYLLM_DECODE_ERROR') {
      return { message: `${where} is damaged (${detail})`, hint: `delete it (rm ${path === undefined ? '<file>' : shellQuote(path)}) to start afresh` };
    }
    if (/cannot create the directory/i.test(plain(fields.message ?? ''))) {
      return { message: `cannot create the directory of ${where} (${detail})`, hint: 'choose another --sqlite-path (or XDG_CACHE_HOME)' };
    }
    if (is(['SQLITE_BUSY', 'SQLITE_LOCKED'], /locked/i)) {
      return {
        message: `${where} is locked by another process (${detail})`,
        hint: 'try again once it has finished (another tinyllm warm, say), or use another --sqlite-path',
      };
    }
    if (is(['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_AUTH', 'EACCES', 'EROFS'], /read-?only|permission denied|unable to open/i)) {
      return { message: `cannot write ${where} (${detail})`, hint: 'check its permissions and its directory, or use another --sqlite-path' };
    }
    if (is(['SQLITE_FULL'], /disk is full|no space/i)) return { message: `${where} cannot grow (${detail})`, hint: 'free some disk space' };
    return { message: `${where} failed${operation === undefined ? '' : ` (${operation})`}: ${detail}` };
  }
  if (kind === 'redis') {
    const where = store?.location === undefined ? 'the Redis server' : `the Redis server at ${store.location}`;
    if (fields.code === 'TINYLLM_DECODE_ERROR') {
      return { message: `an entry in ${where} cannot be read (${detail})`, hint: 'remove the entries with tinyllm cache-clear --no-confirm' };
    }
    if (fields.code === 'TINYLLM_CACHE_TIMEOUT') return { message: `${where} did not answer in time (${detail})`, hint: 'is it overloaded or paused?' };
    // ioredis's parser asks to "report this" when the reply is not Redis's protocol: it is not a bug to report.
    if (/Protocol error/i.test(text)) {
      return { message: `${where} does not answer in Redis's protocol`, hint: 'is this a Redis server? Check --redis-url / --redis-host / --redis-port' };
    }
    return { message: `${where} failed${operation === undefined ? '' : ` during ${operation}`}: ${detail}`, hint: 'is it still running and reachable?' };
  }
  const where = store === undefined ? 'the cache store' : `the ${store.kind} cache at ${store.location}`;
  return { message: `${where} failed: ${detail}` };
}

const withHint = (failure: StoreFailure): string => (failure.hint === undefined ? failure.message : `${failure.message}: ${failure.hint}`);

/** An HTTP error from Ollama (or from whatever answered at --ollama-host), keyed on the error text, not the status alone. */
function describeHttpError(host: string, status: number | undefined, message: string, context: ErrorContext): string {
  const missing = modelNotFound(message);
  if (missing !== undefined) {
    // The name as the user spelled it; Ollama's text may show it normalised (or empty).
    const model = context.model ?? (missing === '' ? '<model>' : missing);
    return `model "${model}" not found at ${host}: pull it with \`ollama pull ${model}\``;
  }
  if (status === 404 || /^\s*</.test(message)) return describeForeignReply(host, status, message);
  return `Ollama at ${host} refused the request${status === undefined ? '' : ` (HTTP ${status})`}: ${clause(message)}`;
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
    case 'TINYLLM_OLLAMA_HTTP':
      return { message: describeHttpError(host, typeof fields.status === 'number' ? fields.status : undefined, message, context), exitCode: EXIT.failure };
    case 'TINYLLM_OLLAMA_STREAM':
      return { message: `the answer from Ollama at ${host} broke off: ${clause(message)}. Nothing was cached; try again.`, exitCode: EXIT.failure };
    case 'TINYLLM_INVALID_OPTION':
    case 'TINYLLM_INVALID_REQUEST':
      return { message, exitCode: EXIT.usage };
    case 'TINYLLM_MISSING_PACKAGE':
      return { message, exitCode: EXIT.failure };
    case 'TINYLLM_BACKEND_ERROR':
    case 'TINYLLM_DECODE_ERROR':
    case 'TINYLLM_CACHE_TIMEOUT':
      return { message: withHint(describeStoreFailure(error, context.store)), exitCode: EXIT.failure };
    default:
      break;
  }
  // Errors of the official client (ResponseError carries status_code) or of fetch itself.
  const statusCode = (error as { status_code?: unknown } | null)?.status_code;
  if (typeof statusCode === 'number') return { message: describeHttpError(host, statusCode, message, context), exitCode: EXIT.failure };
  if (isNetworkFailure(error)) return { message: `cannot reach Ollama at ${host}: is \`ollama serve\` running?`, exitCode: EXIT.failure };
  return { message: `unexpected error: ${message}`, exitCode: EXIT.failure };
}
