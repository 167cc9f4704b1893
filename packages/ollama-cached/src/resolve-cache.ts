import { type CacheBackend, type CacheLogger, InvalidOptionError, MissingPackageError } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { type OllamaResponseCache, ollamaResponseCache } from './ollama-response-cache.js';

/** Where answers are cached: a built-in store by name, your own backend, a ready ResponseCache, or a promise of one. */
export type CacheBackendChoice = 'memory' | 'redis' | 'sqlite' | CacheBackend | OllamaResponseCache | Promise<OllamaResponseCache>;

/** The settings a cache built from a CacheBackendChoice gets (a ready ResponseCache keeps its own). */
export interface CacheSettings {
  /** Most entries of the memory store. @default 1000 */
  maxSize?: number;
  /** Byte budget of the memory store (SQLite: its maxBytes). @default 256 MiB (memory and SQLite) */
  maxBytes?: number;
  /** TTL in seconds of entries written without cacheTtl; null = no expiry. @default 3600 */
  defaultTtl?: number | null;
  /** Seconds an answer is kept past its TTL, served only when Ollama fails (unreachable, 5xx, timeout): stale-if-error; 0 = off. @default 0 */
  staleIfErrorTtl?: number;
  /** Bind keys to the model's digest from Ollama's /api/tags, so a re-pulled or re-created model never serves the old model's answers. @default false */
  bindModelDigest?: boolean;
  /** With bindModelDigest: how long a lookup of /api/tags is trusted, in seconds. @default 10 */
  modelDigestTtl?: number;
  /** Tenant or app written into every key (SQLite: also scopes its rows). @default none */
  namespace?: string;
  /** pino-compatible logger for the cache. @default silent */
  logger?: CacheLogger;
  /** Deadline of each cache operation in ms; past it the call is a miss (fail open). @default 250 */
  cacheTimeoutMs?: number;
  /** Redis host. @default 127.0.0.1 (or redisUrl's) */
  redisHost?: string;
  /** Redis port. @default 6379 (or redisUrl's) */
  redisPort?: number;
  /** Redis database index. @default 0 */
  redisDb?: number;
  /** Redis password. @default none */
  redisPassword?: string;
  /** A redis:// or rediss:// URL; the explicit redis* options override its parts. @default none */
  redisUrl?: string;
  /** Prefix of every Redis key. @default "tinyllm:cache:" */
  keyPrefix?: string;
  /** SQLite database file. @default $XDG_CACHE_HOME/tinyllm/cache.sqlite, else ~/.cache/tinyllm/cache.sqlite */
  sqlitePath?: string;
  /** Cross-process single flight on a store with leases (Redis, SQLite): processes missing one key make one model call. @default true */
  crossProcessFlight?: boolean;
  /** Lifetime of a cross-process lease without renewal, in ms (a leader that died is replaced after at most this). @default 5000 */
  leaseTtlMs?: number;
}

/** Loads a module by name (default: a dynamic import()); injectable for tests. */
export type Importer = (specifier: string) => Promise<unknown>;

// A variable specifier keeps bundlers from inlining the optional packages.
const importOptional: Importer = (specifier) => import(specifier);

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

async function loadRedisCache(settings: CacheSettings, importer?: Importer): Promise<OllamaResponseCache> {
  const mod = await loadOptionalPackage<{ RedisBackend: BackendConstructor }>('@tinyllm/cache-redis', "backend 'redis'", importer);
  const backend = new mod.RedisBackend(
    definedOnly({
      url: settings.redisUrl,
      host: settings.redisHost,
      port: settings.redisPort,
      db: settings.redisDb,
      password: settings.redisPassword,
      keyPrefix: settings.keyPrefix,
      logger: settings.logger,
      // The backend's own bound sits inside the cache's deadline, so the cache can trust it.
      commandTimeoutMs: settings.cacheTimeoutMs === undefined ? undefined : Math.max(1, Math.floor(settings.cacheTimeoutMs * 0.8)),
    }),
  );
  return ollamaResponseCache(backend, settings);
}

async function loadSqliteCache(settings: CacheSettings, importer?: Importer): Promise<OllamaResponseCache> {
  const mod = await loadOptionalPackage<{ SqliteBackend: BackendConstructor }>('@tinyllm/cache-sqlite', "backend 'sqlite'", importer);
  const backend = new mod.SqliteBackend(
    definedOnly({ path: settings.sqlitePath, namespace: settings.namespace, maxBytes: settings.maxBytes, logger: settings.logger }),
  );
  return ollamaResponseCache(backend, settings);
}

function isResponseCache(value: unknown): value is OllamaResponseCache {
  const v = value as Partial<Record<'resolve' | 'getMetrics' | 'generateCacheKey', unknown>> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.resolve === 'function' && typeof v.getMetrics === 'function' && typeof v.generateCacheKey === 'function'
  );
}

function isPromiseLike(value: unknown): value is Promise<OllamaResponseCache> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** A cache resolved from a choice, and whether whoever asked for it owns it (closes it). */
export interface ResolvedCache {
  /** The cache, or a promise of it while an optional store package loads. */
  cache: OllamaResponseCache | Promise<OllamaResponseCache>;
  /** True when the store was opened here from a name, so its user closes it; a backend or cache passed in stays its owner's. */
  owned: boolean;
}

/**
 * The one place a cache choice becomes a ResponseCache: 'memory' (the default), 'redis' and
 * 'sqlite' by name (their packages load on first use), a CacheBackend (wrapped), or a ready
 * ResponseCache or promise of one (used as is).
 */
export function resolveCache(choice: CacheBackendChoice | undefined, settings: CacheSettings = {}, importer?: Importer): ResolvedCache {
  if (choice === undefined || choice === 'memory') {
    const memory = new MemoryBackend(
      definedOnly({ maxSize: settings.maxSize ?? 1000, maxBytes: settings.maxBytes }) as { maxSize?: number; maxBytes?: number },
    );
    return { cache: ollamaResponseCache(memory, settings), owned: true };
  }
  if (choice === 'redis') return { cache: loadRedisCache(settings, importer), owned: true };
  if (choice === 'sqlite') return { cache: loadSqliteCache(settings, importer), owned: true };
  if (isResponseCache(choice)) return { cache: choice, owned: false };
  if (isPromiseLike(choice)) {
    const loading = Promise.resolve(choice);
    loading.catch(() => {});
    return { cache: loading, owned: false };
  }
  if (typeof choice === 'object' && choice !== null && typeof (choice as CacheBackend).get === 'function') {
    return { cache: ollamaResponseCache(choice, settings), owned: false };
  }
  throw new InvalidOptionError('backend', choice, "'memory', 'redis', 'sqlite', a CacheBackend, a ResponseCache or a promise of one");
}
