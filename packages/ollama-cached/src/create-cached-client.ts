import { type CacheBackend, type CacheLogger, InvalidOptionError, MissingPackageError } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import type { Ollama } from 'ollama';
import { CachedOllamaClient } from './cached-client.js';
import { OllamaClient, type OllamaClientOptions } from './ollama-client.js';
import { type OllamaResponseCache, ollamaResponseCache } from './ollama-response-cache.js';

/** Where createCachedClient keeps answers: a built-in store by name, your own backend, or a ready ResponseCache. */
export type CacheBackendChoice = 'memory' | 'redis' | 'sqlite' | CacheBackend | OllamaResponseCache;

/** Options of createCachedClient; every one has a default. */
export interface CreateCachedClientOptions {
  /** A ready client (OllamaClient or the official Ollama); host/timeoutMs/maxRetries/retryDelayMs/headers are then ignored. */
  client?: Ollama;
  /** Ollama's address. Default: $OLLAMA_HOST, else http://127.0.0.1:11434. */
  host?: string;
  /** Deadline per Ollama request in ms (streams: until the headers). Default 300000. */
  timeoutMs?: number;
  /** Retries on connection errors and 5xx. Default 2. */
  maxRetries?: number;
  /** Base backoff between retries in ms. Default 200. */
  retryDelayMs?: number;
  /** Extra headers for every Ollama request. Default: none. */
  headers?: Record<string, string>;
  /** The store. Default 'memory'. 'redis' and 'sqlite' load @tinyllm/cache-redis / @tinyllm/cache-sqlite on first use. */
  backend?: CacheBackendChoice;
  /** Most entries in the memory store. Default 1000. */
  maxSize?: number;
  /** Byte budget of the memory store (SQLite: its maxBytes). Default: none (SQLite: 256 MiB). */
  maxBytes?: number;
  /** TTL in seconds of entries written without cacheTtl; null = no expiry. Default 3600. */
  defaultTtl?: number | null;
  /** Tenant/app written into every key (SQLite: also scopes its rows). Default: none. */
  namespace?: string;
  /** Redis host. Default 127.0.0.1 (or redisUrl's). */
  redisHost?: string;
  /** Redis port. Default 6379 (or redisUrl's). */
  redisPort?: number;
  /** Redis database index. Default 0. */
  redisDb?: number;
  /** Redis password. Default: none. */
  redisPassword?: string;
  /** A redis:// or rediss:// URL; the explicit redis* options override its parts. Default: none. */
  redisUrl?: string;
  /** Prefix of every Redis key. Default "tinyllm:cache:". */
  keyPrefix?: string;
  /** SQLite database file. Default: the user's cache directory (see @tinyllm/cache-sqlite). */
  sqlitePath?: string;
  /** false: no caching at all, every call goes to Ollama. Default true. */
  enableCache?: boolean;
  /** pino-compatible logger for the cache. Default: silent. */
  logger?: CacheLogger;
  /** Deadline of each cache operation in ms; past it the call is a miss (fail open). Default 250. */
  cacheTimeoutMs?: number;
}

/** A module that could not be found (as opposed to one that failed while loading). */
function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e !== 'object' || e === null) return false;
  const code = e.code;
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url|Failed to resolve/i.test(message)) &&
    message.includes(specifier)
  );
}

/** Loads a module by name (default: a dynamic import()); injectable for tests. */
export type Importer = (specifier: string) => Promise<unknown>;

// A variable specifier keeps bundlers from inlining the optional packages.
const importOptional: Importer = (specifier) => import(specifier);

/** Loads an optional package; a missing one rejects with MissingPackageError naming it. */
export async function loadOptionalPackage<T>(specifier: string, feature: string, importer: Importer = importOptional): Promise<T> {
  try {
    return (await importer(specifier)) as T;
  } catch (error) {
    if (isModuleNotFound(error, specifier)) throw new MissingPackageError(specifier, feature, { cause: error });
    throw error;
  }
}

type BackendConstructor = new (options: Record<string, unknown>) => CacheBackend;

function definedOnly(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in values) if (values[key] !== undefined) out[key] = values[key];
  return out;
}

/** Builds the Redis cache: loads @tinyllm/cache-redis (and so ioredis) on first use. */
export async function loadRedisCache(options: CreateCachedClientOptions, importer?: Importer): Promise<OllamaResponseCache> {
  const mod = await loadOptionalPackage<{ RedisBackend: BackendConstructor }>('@tinyllm/cache-redis', "backend 'redis'", importer);
  const backend = new mod.RedisBackend(
    definedOnly({
      url: options.redisUrl,
      host: options.redisHost,
      port: options.redisPort,
      db: options.redisDb,
      password: options.redisPassword,
      keyPrefix: options.keyPrefix,
      logger: options.logger,
      commandTimeoutMs: options.cacheTimeoutMs === undefined ? undefined : Math.max(1, Math.floor(options.cacheTimeoutMs * 0.8)),
    }),
  );
  return ollamaResponseCache(backend, options);
}

/** Builds the SQLite cache: loads @tinyllm/cache-sqlite (and so better-sqlite3) on first use. */
export async function loadSqliteCache(options: CreateCachedClientOptions, importer?: Importer): Promise<OllamaResponseCache> {
  const mod = await loadOptionalPackage<{ SqliteBackend: BackendConstructor }>('@tinyllm/cache-sqlite', "backend 'sqlite'", importer);
  const backend = new mod.SqliteBackend(
    definedOnly({ path: options.sqlitePath, namespace: options.namespace, maxBytes: options.maxBytes, logger: options.logger }),
  );
  return ollamaResponseCache(backend, options);
}

/**
 * A CachedOllamaClient with its cache, synchronously: `createCachedClient({ backend: 'redis' })`.
 * Redis and SQLite stores load their packages on first use; `await client.ready()` to fail fast
 * (MissingPackageError names the package to install).
 */
export function createCachedClient(options: CreateCachedClientOptions = {}): CachedOllamaClient {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
  const client = options.client ?? new OllamaClient(clientOptions(options));
  const base = {
    client,
    enableCache: options.enableCache !== false,
    ...(options.defaultTtl === undefined ? {} : { defaultTtl: options.defaultTtl }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.cacheTimeoutMs === undefined ? {} : { cacheTimeoutMs: options.cacheTimeoutMs }),
  };
  if (options.enableCache === false) return new CachedOllamaClient(base);
  const backend = options.backend ?? 'memory';
  switch (backend) {
    case 'memory': {
      const memory = new MemoryBackend(
        definedOnly({ maxSize: options.maxSize ?? 1000, maxBytes: options.maxBytes }) as { maxSize?: number; maxBytes?: number },
      );
      return new CachedOllamaClient({ ...base, cache: ollamaResponseCache(memory, options), ownsCache: true });
    }
    case 'redis':
      return new CachedOllamaClient({ ...base, cache: loadRedisCache(options), ownsCache: true });
    case 'sqlite':
      return new CachedOllamaClient({ ...base, cache: loadSqliteCache(options), ownsCache: true });
    default:
      if (typeof backend === 'object' && backend !== null) return new CachedOllamaClient({ ...base, cache: backend, ownsCache: false });
      throw new InvalidOptionError('backend', backend, "'memory', 'redis', 'sqlite', a CacheBackend or a ResponseCache");
  }
}

function clientOptions(options: CreateCachedClientOptions): OllamaClientOptions {
  const out: OllamaClientOptions = {};
  if (options.host !== undefined) out.host = options.host;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.maxRetries !== undefined) out.maxRetries = options.maxRetries;
  if (options.retryDelayMs !== undefined) out.retryDelayMs = options.retryDelayMs;
  if (options.headers !== undefined) out.headers = options.headers;
  return out;
}
