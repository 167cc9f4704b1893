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
  model: 'qwen2.5:0.5b',
  ollamaHost: 'http://127.0.0.1:11434',
  ollamaPort: 11434,
  redisHost: '127.0.0.1',
  redisPort: 6379,
  redisDb: 0,
  redisKeyPrefix: 'tinyllm:cache:',
  output: 'text' as OutputFormat,
  concurrency: 4,
} as const;

/** Environment variables the command reads (flags win over them). */
export const ENV = {
  cache: 'TINYLLM_CACHE',
  cacheBackend: 'TINYLLM_CACHE_BACKEND',
  cacheTtl: 'TINYLLM_CACHE_TTL',
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
} as const;

// ---------------------------------------------------------------------------------------------
// Value parsers: commander calls them for flags and TINYLLM_* variables alike; a bad value throws
// InvalidArgumentError, which commander reports naming the flag (or the variable), exit code 2.
// ---------------------------------------------------------------------------------------------

const WHOLE = /^\s*\d+\s*$/;

function wholeNumber(value: string, min: number, max: number, expected: string): number {
  if (!WHOLE.test(value)) throw new InvalidArgumentError(`Expected ${expected}.`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected ${expected}.`);
  return n;
}

/** --cache-ttl: whole seconds >= 0; 0 means the entry never expires. */
export function parseTtl(value: string): number {
  return wholeNumber(value, 0, 10 * 365 * 24 * 3600, 'a whole number of seconds >= 0 (0 = never expire)');
}

/** --redis-port: an integer port 1-65535. */
export function parsePort(value: string): number {
  return wholeNumber(value, 1, 65535, 'a port number between 1 and 65535');
}

/** --redis-db: a database index >= 0. */
export function parseDb(value: string): number {
  return wholeNumber(value, 0, 1_000_000, 'a database index >= 0');
}

/** --concurrency: 1-64 requests at once. */
export function parseConcurrency(value: string): number {
  return wholeNumber(value, 1, 64, 'a whole number between 1 and 64');
}

/** --max-tokens: the most tokens to generate, >= 1. */
export function parseMaxTokens(value: string): number {
  return wholeNumber(value, 1, 1_000_000_000, 'a whole number of tokens >= 1');
}

/** --temperature: a finite number >= 0. */
export function parseTemperature(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('Expected a number >= 0, such as 0.7.');
  return n;
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
  /** --cache-ttl in seconds. */
  cacheTtl?: number;
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
  /** TTL of new entries in seconds; null = never expire. */
  ttl: number | null;
  /** SQLite file; undefined = the default path ($XDG_CACHE_HOME/tinyllm/cache.sqlite or ~/.cache/...). */
  sqlitePath: string | undefined;
  /** Redis connection settings. */
  redis: RedisConfig;
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

  // --backend is an alias; an explicit flag beats the variable, which beats the default.
  const backend =
    (sourceOf('backend') === 'cli' ? raw.backend : undefined) ??
    (sourceOf('cacheBackend') === 'cli' ? raw.cacheBackend : undefined) ??
    raw.cacheBackend ??
    raw.backend ??
    DEFAULTS.cacheBackend;

  const ttl = raw.cacheTtl ?? DEFAULTS.cacheTtl;
  const redis: RedisConfig = {};
  if (raw.redisHost !== undefined) redis.host = raw.redisHost;
  if (raw.redisPort !== undefined) redis.port = raw.redisPort;
  if (raw.redisDb !== undefined) redis.db = raw.redisDb;
  if (raw.redisPassword !== undefined) redis.password = raw.redisPassword;
  if (raw.redisUrl !== undefined) redis.url = raw.redisUrl;
  if (raw.redisKeyPrefix !== undefined) redis.keyPrefix = raw.redisKeyPrefix;
  return { enabled, backend, ttl: ttl === 0 ? null : ttl, sqlitePath: raw.sqlitePath, redis };
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
