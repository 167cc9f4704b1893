import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendStats, CacheBackend, SharedCounters } from '@tinyllm/cache-core';
import { type BackendName, type CacheConfig, redisAddress, redisDatabase } from './config.js';
import { describeStoreFailure } from './errors.js';
import type { Output } from './output.js';

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

/** The store could not be opened or reached; the message says why, `hint` (when there is one) what to check. */
export class CacheUnavailableError extends Error {
  /** Which store. */
  readonly kind: BackendName;
  /** Where it was looked for. */
  readonly location: string;
  /** What to check, e.g. "check --redis-password (or the password in --redis-url)"; undefined when nothing specific helps. */
  readonly hint: string | undefined;
  constructor(kind: BackendName, location: string, reason: string, hint?: string) {
    super(reason);
    this.name = 'CacheUnavailableError';
    this.kind = kind;
    this.location = location;
    this.hint = hint;
  }

  /** The message plus the hint, for commands that cannot go on without the store. */
  get withHint(): string {
    return this.hint === undefined ? this.message : `${this.message}: ${this.hint}`;
  }
}

/** Options of openCache. */
export interface OpenCacheOptions {
  /** Do not create a missing SQLite file: resolve undefined instead (for cache-stats and cache-clear). */
  mustExist?: boolean;
  /** Receives the warnings of the store's driver, in the command's words (e.g. a Redis password the server does not need). Default: dropped. */
  onWarning?: (text: string) => void;
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
      // A one-shot command can wait for another process's lock at exit (close() alone gives up
      // after 50 ms), so its hit or miss reaches the file's shared counters.
      const flushCounters = (backend as { flushCounters?: () => boolean }).flushCounters;
      if (typeof flushCounters === 'function') {
        try {
          flushCounters.call(backend);
        } catch {
          // counted as dropped by close(), which says so
        }
      }
      await backend.close();
    },
  };
}

/** Closes the store, ignoring a failure to close (the command's own result, or its error, matters more). */
export async function closeQuietly(opened: OpenedCache): Promise<void> {
  try {
    await opened.close();
  } catch {
    // e.g. the final counter flush of a SQLite file that another process locked
  }
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
    const bounds = {
      ...(config.maxEntries === undefined ? {} : { maxEntries: config.maxEntries }),
      ...(config.maxBytes === undefined ? {} : { maxBytes: config.maxBytes }),
    };
    return wrap('sqlite', path, new SqliteBackend({ path, ...bounds }));
  } catch (error) {
    // A damaged file (delete it), a locked one (try again), one that cannot be written, another application's database...
    const failure = describeStoreFailure(error, { kind: 'sqlite', location: path });
    const generic = failure.hint === undefined;
    throw new CacheUnavailableError(
      'sqlite',
      path,
      generic ? `cannot open the SQLite cache at ${path}: ${(error as Error).message}` : failure.message,
      failure.hint,
    );
  }
}

async function openMemory(config: CacheConfig): Promise<OpenedCache> {
  const { MemoryBackend } = await import('@tinyllm/cache-memory');
  const bounds = {
    ...(config.maxEntries === undefined ? {} : { maxSize: config.maxEntries }),
    ...(config.maxBytes === undefined ? {} : { maxBytes: config.maxBytes }),
  };
  return wrap('memory', 'this process', new MemoryBackend(bounds));
}

/** Why a Redis connection failed, in words, and what the user should check. */
interface RedisFailure {
  /** The message, e.g. "cannot reach Redis at 127.0.0.1:6379 (connection refused)". */
  message: string;
  /** What to check; only where it helps (a server that is not there, a password, a database index). */
  hint?: string;
}

const REACH_HINT = 'is redis-server running there? Check --redis-url / --redis-host / --redis-port';
const NOT_REDIS_HINT = 'is this a Redis server? Check --redis-url / --redis-host / --redis-port';

/** True for the parser error of a reply that is not Redis's protocol (an HTTP server on that port, say). */
export function isProtocolError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  return name === 'ParserError' || /^Protocol error\b/i.test(message);
}

/**
 * Classifies a failed Redis connection: nothing answering (refused, timed out, unknown host) gets the
 * "is redis-server running" hint; a rejected password points at --redis-password; a database index
 * the server does not have points at --redis-db. Anything else is the client's own description.
 */
function redisFailure(error: unknown, address: string, db: number, describe: (error: unknown, address: string) => string): RedisFailure {
  const unreachable = (reason: string): RedisFailure => ({ message: `cannot reach Redis at ${address} (${reason})`, hint: REACH_HINT });
  if (error === undefined) return unreachable('no answer in time');
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return unreachable('connection refused');
  if (code === 'ETIMEDOUT' || /\bETIMEDOUT\b/.test(message)) return unreachable('connection timed out');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return unreachable('unknown host');
  // Something answered, but not in Redis's protocol (ioredis's own text asks to report a bug: it is not one).
  if (isProtocolError(error)) return { message: `${address} does not answer in Redis's protocol`, hint: NOT_REDIS_HINT };
  // Something accepted the connection but never answered: a hung server or not Redis at all.
  if (/Ready check failed/i.test(message)) return unreachable(`it accepted the connection but did not answer: ${message}`);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH .*without any password/i.test(message)) {
    return {
      message: `Redis at ${address} refused the login (${message})`,
      hint: 'check --redis-password (or the password in --redis-url, TINYLLM_REDIS_PASSWORD)',
    };
  }
  if (/DB index is out of range|invalid DB index/i.test(message)) {
    return {
      message: `Redis at ${address} has no database ${db} (${message})`,
      hint: 'choose an index the server has with --redis-db (or the /db of --redis-url); it has 16 (0-15) unless its "databases" setting says otherwise',
    };
  }
  return { message: `cannot use Redis at ${address} (${describe(error, address)})` };
}

/**
 * ioredis writes some warnings straight to the console (`[WARN] Redis server does not require a
 * password, but a password was supplied.`). While a command uses Redis, those lines are caught and
 * said in the command's words instead; any other console output passes through untouched.
 */
function catchDriverWarnings(address: string, onWarning: (text: string) => void): () => void {
  const original = console.warn;
  const said = new Set<string>();
  console.warn = (...args: unknown[]): void => {
    const text = args.map(String).join(' ');
    if (!text.startsWith('[WARN]')) {
      original.apply(console, args);
      return;
    }
    const warning = /does not require a password, but a password was supplied/i.test(text)
      ? `Redis at ${address} needs no password, but one was given (--redis-password, TINYLLM_REDIS_PASSWORD or the URL): it was ignored`
      : `Redis at ${address}: ${text.replace(/^\[WARN\]\s*/, '')}`;
    if (said.has(warning)) return;
    said.add(warning);
    onWarning(warning);
  };
  return () => {
    console.warn = original;
  };
}

async function openRedis(config: CacheConfig, options: OpenCacheOptions): Promise<OpenedCache> {
  const address = redisAddress(config.redis);
  // Loaded only here: ioredis costs start-up time every other command should not pay.
  const { RedisBackend, describeConnectionError } = await import('@tinyllm/cache-redis');
  const { host, port, db, password, url, keyPrefix } = config.redis;
  const release = catchDriverWarnings(address, options.onWarning ?? (() => {}));
  let backend: InstanceType<typeof RedisBackend> | undefined;
  try {
    backend = new RedisBackend({
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
      const failure = redisFailure(firstError, address, redisDatabase(config.redis), describeConnectionError);
      throw new CacheUnavailableError('redis', address, failure.message, failure.hint);
    }
  } catch (error) {
    await backend?.close();
    release();
    throw error;
  }
  const opened = wrap('redis', address, backend);
  return {
    ...opened,
    close: async () => {
      try {
        await opened.close();
      } finally {
        release();
      }
    },
  };
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
      return openMemory(config);
    case 'redis':
      return openRedis(config, options);
  }
}

/** An existing store opened for a report: open, missing (a SQLite file that does not exist yet), or failed (already said on stderr). */
export type ExistingStore = { kind: 'open'; opened: OpenedCache } | { kind: 'missing' } | { kind: 'failed' };

/** Opens the store for cache-stats and cache-clear: never creates a missing SQLite file, and says on stderr why a store is unavailable. */
export async function openExistingStore(config: CacheConfig, output: Pick<Output, 'error' | 'warn'>): Promise<ExistingStore> {
  try {
    const opened = await openCache(config, { mustExist: true, onWarning: output.warn });
    return opened === undefined ? { kind: 'missing' } : { kind: 'open', opened };
  } catch (error) {
    if (!(error instanceof CacheUnavailableError)) throw error;
    output.error(error.withHint);
    return { kind: 'failed' };
  }
}
