/**
 * `tinyllm serve`: the command's flags and help. Kept apart from serve.ts so that defining the
 * command loads nothing heavy; the proxy itself is imported only when the command runs.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, ENV, parseOllamaHost, parseStaleIfError, parseTtl } from '../config.js';
import type { ExitCode } from '../errors.js';
import type { CommandContext } from '../program.js';

/** The serve command's defaults (the proxy's own, repeated here so --help loads nothing). */
export const SERVE_DEFAULTS = {
  port: 11435,
  host: '127.0.0.1',
  logLevel: 'info',
  logFormat: 'json',
  bodyLimitBytes: 64 * 1024 * 1024,
  upstreamTimeoutMs: 0,
  shutdownGraceMs: 10_000,
  leaseTtlMs: 5000,
} as const;

/** Environment variables only serve reads (flags win over them). */
export const SERVE_ENV = {
  port: 'TINYLLM_PORT',
  host: 'TINYLLM_HOST',
  logLevel: 'TINYLLM_LOG_LEVEL',
  logFormat: 'TINYLLM_LOG_FORMAT',
  bodyLimitBytes: 'TINYLLM_BODY_LIMIT_BYTES',
  upstreamTimeoutMs: 'TINYLLM_UPSTREAM_TIMEOUT_MS',
  shutdownGraceMs: 'TINYLLM_SHUTDOWN_GRACE_MS',
  keysFile: 'TINYLLM_KEYS_FILE',
  adminOnly: 'TINYLLM_ADMIN_ONLY',
  maxGenerations: 'TINYLLM_MAX_GENERATIONS',
  maxQueue: 'TINYLLM_MAX_QUEUE',
  leaseTtlMs: 'TINYLLM_LEASE_TTL_MS',
} as const;

/** The /tinyllm/ operations --admin-only can name. */
export const OPERATIONS = ['health', 'ready', 'stats', 'clear', 'metrics'] as const;
/** The operations admin-only unless --admin-only says otherwise. */
export const DEFAULT_ADMIN_ONLY = ['metrics'] as const;

/** The stores serve can use: the CLI's, plus an in-process memory tier in front of Redis. */
export const SERVE_BACKENDS = ['sqlite', 'memory', 'redis', 'memory+redis'] as const;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const FORMATS = ['json', 'pretty'] as const;

function whole(value: string, min: number, max: number, what: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected ${what}: a whole number from ${min} to ${max}.`);
  return n;
}

/** --port: 0-65535 (0 picks a free port and prints it). */
export const parseListenPort = (value: string): number => whole(value, 0, 65535, 'a port');
/** --body-limit-bytes: 1 byte to 4 GiB. */
export const parseBodyLimit = (value: string): number => whole(value, 1, 4 * 1024 ** 3, 'a number of bytes');
/** --upstream-timeout-ms and --shutdown-grace-ms: 0 (none) to 24 h. */
export const parseMs = (value: string): number => whole(value, 0, 24 * 3600 * 1000, 'a number of milliseconds');
/** --max-generations: 0 (no bound) to 100000. */
export const parseGenerations = (value: string): number => whole(value, 0, 100_000, 'a number of generations (0 for no bound)');
/** --lease-ttl-ms: 100 ms to 1 h. */
export const parseLeaseTtl = (value: string): number => whole(value, 100, 3600 * 1000, 'a number of milliseconds');
/** --max-queue: 0 to 1000000. */
export const parseQueue = (value: string): number => whole(value, 0, 1_000_000, 'a number of waiting requests');
/** --admin-only: a comma-separated list of operations (or "none"). */
export function parseAdminOnly(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 1 && names[0] === 'none') return [];
  for (const name of names) {
    if (!(OPERATIONS as readonly string[]).includes(name))
      throw new InvalidArgumentError(`Expected operations among ${OPERATIONS.join(', ')} (comma-separated), or none.`);
  }
  return names;
}

/** The serve command's own options, as commander parsed them. */
export interface ServeOptions {
  /** --port. */
  port: number;
  /** --host. */
  host: string;
  /** --upstream (or TINYLLM_OLLAMA_HOST); undefined: $OLLAMA_HOST, else the default. */
  upstream?: string;
  /** --log-level. */
  logLevel: (typeof LEVELS)[number];
  /** --log-format. */
  logFormat: (typeof FORMATS)[number];
  /** --body-limit-bytes. */
  bodyLimitBytes: number;
  /** --upstream-timeout-ms (0 = none). */
  upstreamTimeoutMs: number;
  /** --shutdown-grace-ms. */
  shutdownGraceMs: number;
  /** --allow-unauthenticated. */
  allowUnauthenticated?: boolean;
  /** --cache-backend as given (memory+redis included). */
  cacheBackend?: string;
  /** --keys-file. */
  keysFile?: string;
  /** --admin-only (operation names). */
  adminOnly: string[];
  /** --forward-authorization. */
  forwardAuthorization?: boolean;
  /** --dashboard-prompts. */
  dashboardPrompts?: boolean;
  /** --max-generations (undefined: $OLLAMA_NUM_PARALLEL, else the proxy's default). */
  maxGenerations?: number;
  /** --max-queue (undefined: $OLLAMA_MAX_QUEUE, else the proxy's default). */
  maxQueue?: number;
  /** --no-cross-process-flight sets it false. */
  crossProcessFlight: boolean;
  /** --lease-ttl-ms. */
  leaseTtlMs: number;
}

/**
 * Adds `tinyllm serve` to the program. `addStoreOptions` adds the CLI's store flags, `run` turns an
 * action's result into the exit code, `context` resolves the command's context (store config...).
 */
export function registerServe(
  program: Command,
  addStoreOptions: (command: Command) => Command,
  run: (action: (command: Command) => Promise<ExitCode>) => (...args: unknown[]) => Promise<void>,
  context: (command: Command) => CommandContext,
): void {
  const serve = program.command('serve').description('run the caching proxy: point any Ollama client (OLLAMA_HOST) at it');
  serve
    .addOption(
      new Option('--port <port>', 'port to listen on (0 picks a free one)').argParser(parseListenPort).default(SERVE_DEFAULTS.port).env(SERVE_ENV.port),
    )
    .addOption(new Option('--host <address>', 'interface to bind (loopback unless --allow-unauthenticated)').default(SERVE_DEFAULTS.host).env(SERVE_ENV.host))
    .addOption(
      new Option('--upstream <url>', 'the Ollama server (default: $OLLAMA_HOST, else http://127.0.0.1:11434)').argParser(parseOllamaHost).env(ENV.ollamaHost),
    )
    .addOption(new Option('--cache-ttl <seconds>', `how long new answers stay cached (default: ${DEFAULTS.cacheTtl})`).argParser(parseTtl).env(ENV.cacheTtl))
    .addOption(
      new Option('--stale-if-error <seconds>', 'keep answers this long past their TTL, served (X-Cache: STALE) only when Ollama fails (default: 0, off)')
        .argParser(parseStaleIfError)
        .env(ENV.staleIfError),
    )
    .option('--bind-model-digest', "key answers by the model's digest (/api/tags): a re-pulled model never serves old answers")
    .addOption(
      new Option('--log-level <level>', 'lowest level logged (info: one line per request)')
        .choices(LEVELS)
        .default(SERVE_DEFAULTS.logLevel)
        .env(SERVE_ENV.logLevel),
    )
    .addOption(
      new Option('--log-format <format>', 'json lines, or pretty for people').choices(FORMATS).default(SERVE_DEFAULTS.logFormat).env(SERVE_ENV.logFormat),
    )
    .addOption(
      new Option('--body-limit-bytes <bytes>', 'largest request body on a cached route (413 beyond)')
        .argParser(parseBodyLimit)
        .default(SERVE_DEFAULTS.bodyLimitBytes)
        .env(SERVE_ENV.bodyLimitBytes),
    )
    .addOption(
      new Option('--upstream-timeout-ms <ms>', "deadline for Ollama's answer headers; 0 = none (a long generation sends none until done)")
        .argParser(parseMs)
        .default(SERVE_DEFAULTS.upstreamTimeoutMs)
        .env(SERVE_ENV.upstreamTimeoutMs),
    )
    .addOption(
      new Option('--shutdown-grace-ms <ms>', 'on SIGTERM/SIGINT, how long requests in flight may take to finish')
        .argParser(parseMs)
        .default(SERVE_DEFAULTS.shutdownGraceMs)
        .env(SERVE_ENV.shutdownGraceMs),
    )
    .addOption(
      new Option('--keys-file <path>', 'API keys (JSON): every request then needs Authorization: Bearer <key>, each key a tenant; SIGHUP reloads it').env(
        SERVE_ENV.keysFile,
      ),
    )
    .addOption(
      new Option(
        '--admin-only <operations>',
        `with keys, the /tinyllm/ operations only admin keys may use: ${OPERATIONS.join(', ')} (comma-separated), or none`,
      )
        .argParser(parseAdminOnly)
        .default([...DEFAULT_ADMIN_ONLY], DEFAULT_ADMIN_ONLY.join(','))
        .env(SERVE_ENV.adminOnly),
    )
    .option('--forward-authorization', "with keys, still send the client's Authorization header on to Ollama")
    .option('--dashboard-prompts', 'show the prompts of recent requests on the dashboard (/tinyllm/dashboard); off, prompts are never kept')
    .addOption(
      new Option(
        '--max-generations <n>',
        'most generations running at Ollama at once (cache hits never count); 0 = no bound (default: $OLLAMA_NUM_PARALLEL, else 4)',
      )
        .argParser(parseGenerations)
        .env(SERVE_ENV.maxGenerations),
    )
    .addOption(
      new Option('--max-queue <n>', 'most requests waiting for a generation; beyond it 503 with Retry-After (default: $OLLAMA_MAX_QUEUE, else 512)')
        .argParser(parseQueue)
        .env(SERVE_ENV.maxQueue),
    )
    .option('--no-cross-process-flight', 'with a shared store (redis, sqlite), do not make proxies that miss one question at once wait for one model call')
    .addOption(
      new Option('--lease-ttl-ms <ms>', 'how long a proxy asking the model for others may go silent before another one takes over')
        .argParser(parseLeaseTtl)
        .default(SERVE_DEFAULTS.leaseTtlMs)
        .env(SERVE_ENV.leaseTtlMs),
    )
    .option('--allow-unauthenticated', 'allow a non-loopback --host without API keys (only on a network you trust)');
  addStoreOptions(serve);
  // serve also offers an in-process memory tier in front of Redis.
  serve.options.find((option) => option.long === '--cache-backend')?.choices(SERVE_BACKENDS);
  serve
    .addHelpText(
      'after',
      `
Clients point at the proxy instead of Ollama: the ollama CLI and Python library read
OLLAMA_HOST=http://127.0.0.1:11435; Open WebUI, LangChain and others take it as the Ollama base
URL. Cached routes: POST /api/generate, /api/chat, /api/embed, /api/embeddings; every other route
passes through untouched. Operations: /tinyllm/health, /tinyllm/ready, /tinyllm/metrics
(Prometheus), /tinyllm/stats, POST /tinyllm/clear. SIGTERM or SIGINT: finish requests in flight,
let pending cache writes land, exit 0.

API keys (--keys-file): {"keys": [{"key": "...", "tenant": "team-a", "role": "user"}, ...]}; a key's
tenant is its namespace (X-TinyLLM-Namespace picks a sub-namespace inside it); users see and clear
their tenant's entries only, admins everything. SIGHUP reloads the file (a bad file keeps the old keys).

Environment (flags win): ${SERVE_ENV.port}, ${SERVE_ENV.host}, ${ENV.ollamaHost} (then OLLAMA_HOST),
${SERVE_ENV.logLevel}, ${SERVE_ENV.logFormat}, ${SERVE_ENV.bodyLimitBytes}, ${SERVE_ENV.upstreamTimeoutMs},
${SERVE_ENV.shutdownGraceMs}, ${SERVE_ENV.keysFile}, ${SERVE_ENV.adminOnly}, ${SERVE_ENV.maxGenerations},
${SERVE_ENV.maxQueue}, and the store variables of the other commands.

Examples:
  $ tinyllm serve
  $ OLLAMA_HOST=http://127.0.0.1:11435 ollama run llama3.2 "hi"     # in another terminal
  $ tinyllm serve --cache-backend memory+redis --redis-url redis://localhost:6379 --log-format pretty
  $ tinyllm serve --host 0.0.0.0 --keys-file /etc/tinyllm/keys.json  # a team, with API keys
  $ tinyllm serve --host 0.0.0.0 --allow-unauthenticated             # trusted network only`,
    )
    .action(
      run(async (command) => {
        const { serveCommand } = await import('./serve.js');
        return serveCommand(command.opts<ServeOptions>(), context(command));
      }),
    );
}
