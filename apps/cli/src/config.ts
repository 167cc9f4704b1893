import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors.js';

/** The cache stores the command can use. */
export const BACKENDS = ['sqlite', 'memory', 'redis'] as const;
/** One of BACKENDS. */
export type BackendName = (typeof BACKENDS)[number];
/** Output formats of `tinyllm run`. */
export const OUTPUTS = ['text', 'json'] as const;
/** One of OUTPUTS. */
export type OutputFormat = (typeof OUTPUTS)[number];

/** Every default of the command, in one place (README tables and --help read from here). */
export const DEFAULTS = {
  cache: true,
  cacheBackend: 'sqlite' as BackendName,
  cacheTtl: 3600,
  /** --stale-if-error: seconds an answer is kept past its TTL for when the model fails; 0 = off. */
  staleIfError: 0,
  model: 'qwen2.5:0.5b',
  ollamaHost: 'http://127.0.0.1:11434',
  ollamaPort: 11434,
  redisHost: '127.0.0.1',
  redisPort: 6379,
  redisDb: 0,
  redisKeyPrefix: 'tinyllm:cache:',
  output: 'text' as OutputFormat,
  concurrency: 4,
  /** Deadline of each Ollama request, ms (the same as @tinyllm/ollama-cached's own default). */
  timeoutMs: 300_000,
  /** The stores' own bounds, for help and docs (the command passes a bound only when one is given). */
  sqliteMaxEntries: 10_000,
  sqliteMaxBytes: 256 * 1024 * 1024,
  memoryMaxEntries: 1_000,
  memoryMaxBytes: 256 * 1024 * 1024,
} as const;

/** Environment variables the command reads (flags win over them). */
export const ENV = {
  cache: 'TINYLLM_CACHE',
  cacheBackend: 'TINYLLM_CACHE_BACKEND',
  cacheTtl: 'TINYLLM_CACHE_TTL',
  staleIfError: 'TINYLLM_STALE_IF_ERROR',
  model: 'TINYLLM_MODEL',
  ollamaHost: 'TINYLLM_OLLAMA_HOST',
  redisHost: 'TINYLLM_REDIS_HOST',
  redisPort: 'TINYLLM_REDIS_PORT',
  redisDb: 'TINYLLM_REDIS_DB',
  redisPassword: 'TINYLLM_REDIS_PASSWORD',
  redisUrl: 'TINYLLM_REDIS_URL',
  redisKeyPrefix: 'TINYLLM_REDIS_KEY_PREFIX',
  sqlitePath: 'TINYLLM_SQLITE_PATH',
  output: 'TINYLLM_OUTPUT',
  concurrency: 'TINYLLM_CONCURRENCY',
  timeoutMs: 'TINYLLM_TIMEOUT_MS',
  maxEntries: 'TINYLLM_MAX_ENTRIES',
  maxBytes: 'TINYLLM_MAX_BYTES',
} as const;

/**
 * Empty TINYLLM_* variables mean unset (`TINYLLM_MODEL= tinyllm run hi` uses the default model),
 * whatever the variable. Commander reads option variables from process.env, so they are removed
 * from `env` (process.env by default) before the command line is parsed.
 */
export function unsetEmptyVariables(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('TINYLLM_') && value === '') delete env[name];
  }
}

// ---------------------------------------------------------------------------------------------
// Value parsers: commander calls them for flags and TINYLLM_* variables alike; a bad value throws
// InvalidArgumentError, which commander reports naming the flag (or the variable), exit code 2.
// ---------------------------------------------------------------------------------------------

const WHOLE = /^\s*-?\d+\s*$/;

/** "1,048,576" for a bound in a message. */
const bound = (n: number): string => n.toLocaleString('en-US');

/** A whole number from min to max; the message of a bad value states both bounds. */
function wholeNumber(value: string, min: number, max: number, what: string): number {
  const expected = `Expected ${what}: a whole number from ${bound(min)} to ${bound(max)}.`;
  if (!WHOLE.test(value)) throw new InvalidArgumentError(expected);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(expected);
  return n;
}

/** A finite number from min to max; the message of a bad value states both bounds and an example. */
function decimalNumber(value: string, min: number, max: number, what: string, example: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new InvalidArgumentError(`Expected ${what}: a number from ${bound(min)} to ${bound(max)}, such as ${example}.`);
  }
  return n;
}

/** The longest TTL the command accepts: 10 years, in seconds. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;
/** The spelling of "this entry never expires" for --cache-ttl. */
export const NEVER = 'never';

/**
 * --cache-ttl: whole seconds from 1 to 10 years, or "never" (no expiry; kept as the word, because
 * commander turns a parser's null into ''). 0 is refused: the CLI once read it as "never expires"
 * and the library as "store nothing", so it means neither.
 */
export function parseTtl(value: string): number | typeof NEVER {
  if (value.trim().toLowerCase() === NEVER) return NEVER;
  if (WHOLE.test(value) && Number(value) === 0) {
    throw new InvalidArgumentError('A TTL of 0 is ambiguous: use --cache-ttl never for entries that never expire, or --no-store to not store the answer.');
  }
  if (!WHOLE.test(value) || Number(value) < 1 || Number(value) > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(`Expected a whole number of seconds from 1 to ${bound(MAX_TTL_SECONDS)} (10 years), or never.`);
  }
  return Number(value);
}

/** --stale-if-error: whole seconds from 0 (off) to 10 years. */
export function parseStaleIfError(value: string): number {
  if (!WHOLE.test(value) || Number(value) < 0 || Number(value) > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(`Expected a whole number of seconds from 0 (off) to ${bound(MAX_TTL_SECONDS)} (10 years).`);
  }
  return Number(value);
}

/** --redis-port: an integer port 1-65535. */
export function parsePort(value: string): number {
  return wholeNumber(value, 1, 65535, 'a port number');
}

/** --redis-db: a database index >= 0. */
export function parseDb(value: string): number {
  return wholeNumber(value, 0, 1_000_000, 'a database index');
}

/** --concurrency: 1-64 requests at once. */
export function parseConcurrency(value: string): number {
  return wholeNumber(value, 1, 64, 'a number of requests in flight');
}

/** The largest whole number a 32-bit signed integer holds (Ollama's int options, Node's longest timer). */
const INT32_MAX = 2_147_483_647;

/** --max-tokens: the most tokens to generate (num_predict). */
export function parseMaxTokens(value: string): number {
  return wholeNumber(value, 1, INT32_MAX, 'a number of tokens');
}

/** --temperature: a number from 0 to 100. */
export function parseTemperature(value: string): number {
  return decimalNumber(value, 0, 100, 'a temperature', '0.7');
}

/** --top-p: a probability from 0 to 1. */
export function parseTopP(value: string): number {
  return decimalNumber(value, 0, 1, 'a top-p probability', '0.9');
}

/** --seed: a whole number (Ollama's seed is a 32-bit integer). */
export function parseSeed(value: string): number {
  return wholeNumber(value, -INT32_MAX - 1, INT32_MAX, 'a seed');
}

/** --num-ctx: the context window in tokens. */
export function parseNumCtx(value: string): number {
  return wholeNumber(value, 1, INT32_MAX, 'a context size in tokens');
}

/** --timeout-ms: the deadline of each Ollama request, in ms (Node's timers hold at most 2^31-1 ms). */
export function parseTimeoutMs(value: string): number {
  return wholeNumber(value, 1, INT32_MAX, 'a timeout in milliseconds');
}

/** --max-entries: the most entries the store keeps. */
export function parseMaxEntries(value: string): number {
  return wholeNumber(value, 1, 1_000_000_000, 'a number of entries');
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
const MAX_BYTES = 2 ** 50;

/** --max-bytes: a byte budget, in bytes or with a binary unit (512MiB, 2GiB, 100KiB). */
export function parseMaxBytes(value: string): number {
  const expected = `Expected a size in bytes from 1 to ${bound(MAX_BYTES)} (1 PiB), optionally with a unit: 100KiB, 512MiB, 2GiB.`;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) throw new InvalidArgumentError(expected);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > MAX_BYTES) throw new InvalidArgumentError(expected);
  return bytes;
}

/** Any non-empty string (--model, --sqlite-path, --system...). */
export function parseNonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('Expected a non-empty value.');
  return value;
}

/** --redis-url: a redis:// or rediss:// URL. */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('Expected a URL such as redis://127.0.0.1:6379/0.');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InvalidArgumentError('Expected a redis:// or rediss:// URL.');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) throw new InvalidArgumentError('Expected a port between 1 and 65535 in the URL.');
  return value;
}

/**
 * --ollama-host (and OLLAMA_HOST): accepts what the Ollama client accepts ("host", "host:port",
 * ":port", "http://host:port") and returns a full URL. Like ollama-js, a value without a scheme
 * gets http:// and port 11434; with a scheme and no port, the scheme's default port.
 */
export function parseOllamaHost(value: string): string {
  let raw = value.trim();
  const invalid = (): InvalidArgumentError => new InvalidArgumentError('Expected a host such as http://127.0.0.1:11434.');
  if (raw === '') throw invalid();
  if (raw.startsWith(':')) raw = `http://127.0.0.1${raw}`;
  const explicitScheme = raw.includes('://');
  let url: URL;
  try {
    url = new URL(explicitScheme ? raw : `http://${raw}`);
  } catch {
    throw invalid();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('Expected an http:// or https:// address.');
  if (url.hostname === '') throw invalid();
  // Ollama listens on 0.0.0.0 when told to; a client reaches it through the loopback address.
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.port === '' && !explicitScheme) url.port = String(DEFAULTS.ollamaPort);
  return url.href.replace(/\/$/, '');
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** A boolean environment value (1/true/yes/on, 0/false/no/off); anything else is a usage error naming the variable. */
export function parseBooleanEnv(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new UsageError(`environment variable ${name}='${value}' is invalid. Expected true or false.`);
}

// ---------------------------------------------------------------------------------------------
// Resolved configuration.
// ---------------------------------------------------------------------------------------------

/** Where a commander option value came from (getOptionValueSource: "default", "env", "cli"...). */
export type ValueSource = string | undefined;

/** The cache options shared by every command, as commander parsed them. */
export interface RawCacheOptions {
  /** --cache / --no-cache (undefined when neither was given). */
  cache?: boolean;
  /** --cache-backend (or TINYLLM_CACHE_BACKEND, or the default). */
  cacheBackend?: BackendName;
  /** --backend: alias of --cache-backend. */
  backend?: BackendName;
  /** --cache-ttl in seconds, or "never". */
  cacheTtl?: number | typeof NEVER;
  /** --stale-if-error in seconds. */
  staleIfError?: number;
  /** --bind-model-digest. */
  bindModelDigest?: boolean;
  /** --redis-host. */
  redisHost?: string;
  /** --redis-port. */
  redisPort?: number;
  /** --redis-db. */
  redisDb?: number;
  /** --redis-password. */
  redisPassword?: string;
  /** --redis-url. */
  redisUrl?: string;
  /** --redis-key-prefix. */
  redisKeyPrefix?: string;
  /** --sqlite-path. */
  sqlitePath?: string;
  /** --max-entries (run, chat, warm). */
  maxEntries?: number;
  /** --max-bytes (run, chat, warm). */
  maxBytes?: number;
}

/** How to reach Redis; unset fields come from the URL, then from the defaults. */
export interface RedisConfig {
  /** Host name; overrides the URL's. */
  host?: string;
  /** Port; overrides the URL's. */
  port?: number;
  /** Database index; overrides the URL's. */
  db?: number;
  /** Password; overrides the URL's. */
  password?: string;
  /** redis:// or rediss:// URL. */
  url?: string;
  /** Prefix of every key the cache writes (and clears). */
  keyPrefix?: string;
}

/** The cache a command uses. */
export interface CacheConfig {
  /** False with --no-cache (or TINYLLM_CACHE=false). */
  enabled: boolean;
  /** Which store. */
  backend: BackendName;
  /** TTL of new entries in seconds; null = never expire ("--cache-ttl never"). */
  ttl: number | null;
  /** Seconds answers are kept past their TTL, served only when the model fails; 0 = off. */
  staleIfErrorTtl: number;
  /** Keys include the model's digest from /api/tags. */
  bindModelDigest: boolean;
  /** SQLite file; undefined = the default path ($XDG_CACHE_HOME/tinyllm/cache.sqlite or ~/.cache/...). */
  sqlitePath: string | undefined;
  /** Redis connection settings. */
  redis: RedisConfig;
  /** Most entries the store keeps (SQLite, memory); undefined = the store's default. */
  maxEntries: number | undefined;
  /** Most bytes the store keeps (SQLite, memory); undefined = the store's default. */
  maxBytes: number | undefined;
}

/** Options of resolveCacheConfig. */
export interface ResolveCacheOptions {
  /**
   * The command has --cache / --no-cache (run, warm), so TINYLLM_CACHE applies to it. Commands
   * without them (cache-stats, cache-clear) ignore the variable, even an invalid value. Default true.
   */
  cacheToggle?: boolean;
}

/** Resolves the cache options: flags, then TINYLLM_* variables, then DEFAULTS. */
export function resolveCacheConfig(
  raw: RawCacheOptions,
  sourceOf: (key: keyof RawCacheOptions) => ValueSource,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveCacheOptions = {},
): CacheConfig {
  let enabled: boolean = DEFAULTS.cache;
  if (options.cacheToggle !== false) {
    if (sourceOf('cache') === 'cli' && raw.cache !== undefined) enabled = raw.cache;
    else if (env[ENV.cache] !== undefined && env[ENV.cache] !== '') enabled = parseBooleanEnv(ENV.cache, env[ENV.cache] as string);
  }

  // --backend is an alias; an explicit flag beats the variable, which beats the default. Both
  // flags with different values is a contradiction, not a precedence question.
  const backendFlag = sourceOf('backend') === 'cli' ? raw.backend : undefined;
  const cacheBackendFlag = sourceOf('cacheBackend') === 'cli' ? raw.cacheBackend : undefined;
  if (backendFlag !== undefined && cacheBackendFlag !== undefined && backendFlag !== cacheBackendFlag) {
    throw new UsageError(
      `--backend ${backendFlag} and --cache-backend ${cacheBackendFlag} disagree: --backend is another name for --cache-backend, so give one of them.`,
    );
  }
  const backend = backendFlag ?? cacheBackendFlag ?? raw.cacheBackend ?? raw.backend ?? DEFAULTS.cacheBackend;

  // Redis evicts by its own maxmemory policy: a bound given on the command line cannot apply. One
  // from the environment is ignored there, so a shell that sets it for SQLite can still use Redis.
  if (backend === 'redis') {
    for (const [key, flag] of [
      ['maxEntries', '--max-entries'],
      ['maxBytes', '--max-bytes'],
    ] as const) {
      if (sourceOf(key) === 'cli' && raw[key] !== undefined) {
        throw new UsageError(
          `${flag} bounds the sqlite and memory stores; Redis evicts by its own maxmemory setting (redis.conf), so drop ${flag} or use another --cache-backend.`,
        );
      }
    }
  }
  const bounded = backend !== 'redis';

  const ttl = raw.cacheTtl === NEVER ? null : (raw.cacheTtl ?? DEFAULTS.cacheTtl);
  const redis: RedisConfig = {};
  if (raw.redisHost !== undefined) redis.host = raw.redisHost;
  if (raw.redisPort !== undefined) redis.port = raw.redisPort;
  if (raw.redisDb !== undefined) redis.db = raw.redisDb;
  if (raw.redisPassword !== undefined) redis.password = raw.redisPassword;
  if (raw.redisUrl !== undefined) redis.url = raw.redisUrl;
  if (raw.redisKeyPrefix !== undefined) redis.keyPrefix = raw.redisKeyPrefix;
  return {
    enabled,
    backend,
    ttl,
    staleIfErrorTtl: raw.staleIfError ?? DEFAULTS.staleIfError,
    bindModelDigest: raw.bindModelDigest === true,
    sqlitePath: raw.sqlitePath,
    redis,
    maxEntries: bounded ? raw.maxEntries : undefined,
    maxBytes: bounded ? raw.maxBytes : undefined,
  };
}

/** "host:port" of the Redis server the config points at, for messages. */
export function redisAddress(redis: RedisConfig): string {
  let host: string = DEFAULTS.redisHost;
  let port: number = DEFAULTS.redisPort;
  if (redis.url !== undefined) {
    const url = new URL(redis.url);
    if (url.hostname) host = url.hostname;
    if (url.port) port = Number(url.port);
  }
  return `${redis.host ?? host}:${redis.port ?? port}`;
}

/** The Redis database index the config selects: --redis-db, else the URL's /db, else 0 (for messages). */
export function redisDatabase(redis: RedisConfig): number {
  if (redis.db !== undefined) return redis.db;
  if (redis.url !== undefined) {
    const path = new URL(redis.url).pathname.replace(/^\//, '');
    if (/^\d+$/.test(path)) return Number(path);
  }
  return DEFAULTS.redisDb;
}

/** The Ollama address: --ollama-host or TINYLLM_OLLAMA_HOST (commander has parsed those), else OLLAMA_HOST, else the default. */
export function resolveOllamaHost(fromFlagOrEnv: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (fromFlagOrEnv !== undefined) return fromFlagOrEnv;
  const ollamaHost = env.OLLAMA_HOST;
  if (ollamaHost !== undefined && ollamaHost.trim() !== '') {
    try {
      return parseOllamaHost(ollamaHost);
    } catch (error) {
      throw new UsageError(`environment variable OLLAMA_HOST='${ollamaHost}' is invalid. ${(error as Error).message}`);
    }
  }
  return DEFAULTS.ollamaHost;
}
