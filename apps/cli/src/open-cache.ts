import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendStats, CacheBackend, SharedCounters } from '@tinyllm/cache-core';
import { type BackendName, type CacheConfig, redisAddress } from './config.js';

/** An open cache store. */
export interface OpenedCache {
  /** Which store. */
  readonly kind: BackendName;
  /** Where it lives: the SQLite file, Redis host:port, or "this process". */
  readonly location: string;
  /** The backend, ready to use. */
  readonly backend: CacheBackend;
  /** Entries, bytes, evictions and oldest/newest entry of this cache. */
  stats(): Promise<BackendStats>;
  /** The counters every process added to the store (hits, misses...), when the store keeps them. */
  counters(): Promise<SharedCounters | undefined>;
  /** Releases the file or connection; idempotent. */
  close(): Promise<void>;
}

/** The store could not be opened or reached; `reason` says why (and what to do). */
export class CacheUnavailableError extends Error {
  /** Which store. */
  readonly kind: BackendName;
  /** Where it was looked for. */
  readonly location: string;
  constructor(kind: BackendName, location: string, reason: string) {
    super(reason);
    this.name = 'CacheUnavailableError';
    this.kind = kind;
    this.location = location;
  }
}

/** Options of openCache. */
export interface OpenCacheOptions {
  /** Do not create a missing SQLite file: resolve undefined instead (for cache-stats and cache-clear). */
  mustExist?: boolean;
}

function wrap(kind: BackendName, location: string, backend: CacheBackend): OpenedCache {
  let closed = false;
  return {
    kind,
    location,
    backend,
    stats: async () => backend.stats(),
    counters: async () => (backend.readCounters ? backend.readCounters() : undefined),
    close: async () => {
      if (closed) return;
      closed = true;
      await backend.close();
    },
  };
}

/** The SQLite file the config points at: --sqlite-path (made absolute), else the package's default path. */
export async function sqlitePathOf(config: CacheConfig): Promise<string> {
  if (config.sqlitePath !== undefined) return resolve(config.sqlitePath);
  const { defaultCachePath } = await import('@tinyllm/cache-sqlite');
  return defaultCachePath();
}

async function openSqlite(config: CacheConfig, options: OpenCacheOptions): Promise<OpenedCache | undefined> {
  const path = await sqlitePathOf(config);
  if (options.mustExist && !existsSync(path)) return undefined;
  const { SqliteBackend } = await import('@tinyllm/cache-sqlite');
  try {
    return wrap('sqlite', path, new SqliteBackend({ path }));
  } catch (error) {
    throw new CacheUnavailableError('sqlite', path, `cannot open the SQLite cache at ${path}: ${(error as Error).message}`);
  }
}

async function openMemory(): Promise<OpenedCache> {
  const { MemoryBackend } = await import('@tinyllm/cache-memory');
  return wrap('memory', 'this process', new MemoryBackend());
}

/** A short reason for a failed Redis connection: "connection refused", "timed out", or the client's description. */
function redisFailure(error: unknown, address: string, describe: (error: unknown, address: string) => string): string {
  if (error === undefined) return 'no answer';
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  return describe(error, address);
}

async function openRedis(config: CacheConfig): Promise<OpenedCache> {
  const address = redisAddress(config.redis);
  // Loaded only here: ioredis costs start-up time every other command should not pay.
  const { RedisBackend, describeConnectionError } = await import('@tinyllm/cache-redis');
  const { host, port, db, password, url, keyPrefix } = config.redis;
  const backend = new RedisBackend({
    ...(url === undefined ? {} : { url }),
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(db === undefined ? {} : { db }),
    ...(password === undefined ? {} : { password }),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  });
  let firstError: unknown;
  const onError = (error: unknown): void => {
    firstError ??= error;
  };
  backend.client.on('error', onError);
  const ready = await backend.ready();
  backend.client.off('error', onError);
  if (!ready) {
    await backend.close();
    throw new CacheUnavailableError('redis', address, `cannot reach Redis at ${address} (${redisFailure(firstError, address, describeConnectionError)})`);
  }
  return wrap('redis', address, backend);
}

/**
 * Opens the store the config names. SQLite: the file (created unless mustExist); memory: an empty
 * in-process LRU; Redis: connects and waits (about a second at most) for the first connection.
 * Throws CacheUnavailableError when the store cannot be opened or reached.
 */
export async function openCache(config: CacheConfig, options: OpenCacheOptions = {}): Promise<OpenedCache | undefined> {
  switch (config.backend) {
    case 'sqlite':
      return openSqlite(config, options);
    case 'memory':
      return openMemory();
    case 'redis':
      return openRedis(config);
  }
}
