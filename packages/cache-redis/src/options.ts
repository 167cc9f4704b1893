import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type CacheLogger, InvalidOptionError } from '@tinyllm/cache-core';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** A host and port of a cluster seed node or a sentinel. */
export interface RedisAddress {
  /** Host name or IP address. */
  host: string;
  /** TCP port, 1-65535. */
  port: number;
}

/** Options of RedisBackend; every one has a default (see REDIS_DEFAULTS and the README's table). */
export interface RedisBackendOptions {
  /** Redis host (standalone). @default "127.0.0.1" */
  host?: string;
  /** Redis port, 1-65535. @default 6379 */
  port?: number;
  /** Database index (standalone and Sentinel; a cluster has only 0). @default 0 */
  db?: number;
  /** AUTH password. @default none */
  password?: string;
  /** ACL user (Redis 6+). @default none */
  username?: string;
  /** `redis://[user:pass@]host[:port][/db]` or `rediss://` (TLS); its parts are defaults that the explicit options above override. @default none */
  url?: string;
  /** TLS: true for defaults, or node:tls connection options. @default off (on for rediss://) */
  tls?: boolean | TlsOptions;
  /** Prefix of every key written, scanned and cleared; must not be empty. @default "tinyllm:cache:" */
  keyPrefix?: string;
  /** Seed nodes `{ host, port }[]`: use an ioredis Cluster. @default none */
  clusterNodes?: RedisAddress[];
  /** Sentinels `{ host, port }[]`: use Sentinel mode (requires sentinelName). @default none */
  sentinels?: RedisAddress[];
  /** Name of the master the sentinels monitor. @default none */
  sentinelName?: string;
  /** ioredis options merged over the safe defaults (per-node options for a cluster); `keyPrefix` is refused. @default {} */
  redisOptions?: RedisOptions;
  /** ioredis Cluster options merged over the safe cluster defaults. @default {} */
  clusterOptions?: ClusterOptions;
  /** Use this ioredis client instead of connecting; close() leaves it open unless closeClient. @default none */
  client?: Redis | Cluster;
  /** Quit a supplied client on close() (a client the backend created is always quit). @default false */
  closeClient?: boolean;
  /** A pino-compatible logger for connection events and background failures. @default silent */
  logger?: CacheLogger;
  /** Per-command timeout (ioredis commandTimeout), in ms; createRedisCache sets it to its timeoutMs when only that is given. @default 200 */
  commandTimeoutMs?: number;
  /** Connect timeout (ioredis connectTimeout and sentinelCommandTimeout), in ms; the first calls wait at most this plus commandTimeoutMs for it. @default 1000 */
  connectTimeoutMs?: number;
  /** How often buffered shared-counter deltas are written to Redis, in ms. @default 100 */
  counterFlushMs?: number;
  /** Send the lookups that arrive in one tick as one MGET (one per hash slot on a Cluster) instead of one GET each. @default true */
  batchReads?: boolean;
  /** Most keys in one batched MGET (2 or more); a larger batch is split. @default 128 */
  maxBatchKeys?: number;
}

/** The defaults of RedisBackendOptions, in one place. */
export const REDIS_DEFAULTS = {
  host: '127.0.0.1',
  port: 6379,
  db: 0,
  keyPrefix: 'tinyllm:cache:',
  commandTimeoutMs: 200,
  connectTimeoutMs: 1000,
  counterFlushMs: 100,
  batchReads: true,
  maxBatchKeys: 128,
  /** Longest pause between reconnect attempts, in ms. */
  maxReconnectDelayMs: 1000,
  /** How long close() waits for the counters flush and then for QUIT; also ioredis's disconnectTimeout (end() before destroy), in ms. */
  quitGraceMs: 500,
} as const;

/** Reconnect backoff: 100, 200, 400, 800 ms, then every maxReconnectDelayMs; always a number, so ioredis never gives up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, Math.min(attempt - 1, 10)), REDIS_DEFAULTS.maxReconnectDelayMs);
}

/**
 * The ioredis options a cache needs (see the README for why each one):
 * - enableOfflineQueue false: a command while disconnected fails at once instead of queueing;
 * - maxRetriesPerRequest 1: a command is retried at most once across a reconnect;
 * - commandTimeout / connectTimeout: nothing waits on a hung server or an unroutable address;
 * - sentinelCommandTimeout (connectTimeoutMs): a hung sentinel cannot hold the master lookup, the next one is asked;
 * - autoResendUnfulfilledCommands false: a command whose reply was lost to a reset is never replayed
 *   (it may have been applied: a replayed HINCRBY counts twice); it fails by commandTimeout instead;
 * - disconnectTimeout (quitGraceMs): a closing socket to a hung server is destroyed after 500 ms, not 2 s;
 * - retryStrategy: always a number, so ioredis keeps reconnecting in the background;
 * - enableAutoPipelining: concurrent commands share one write and one round trip;
 * - lazyConnect: the backend starts the connection itself to learn when it is ready;
 * - reconnectOnError READONLY: a demoted master (failover) makes the client reconnect to the new one.
 */
export function safeRedisOptions(commandTimeoutMs: number, connectTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    sentinelCommandTimeout: connectTimeoutMs,
    autoResendUnfulfilledCommands: false,
    disconnectTimeout: REDIS_DEFAULTS.quitGraceMs,
    retryStrategy: reconnectDelay,
    enableAutoPipelining: true,
    lazyConnect: true,
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  };
}

/** The Cluster-level counterpart of safeRedisOptions. */
export function safeClusterOptions(): ClusterOptions {
  return {
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelay,
    enableAutoPipelining: true,
    lazyConnect: true,
    slotsRefreshTimeout: 1000,
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
  };
}

/** RedisBackendOptions checked and with every default filled in. */
export interface ResolvedRedisOptions {
  host: string;
  port: number;
  db: number;
  password: string | undefined;
  username: string | undefined;
  tls: TlsOptions | undefined;
  keyPrefix: string;
  clusterNodes: RedisAddress[] | undefined;
  sentinels: RedisAddress[] | undefined;
  sentinelName: string | undefined;
  redisOptions: RedisOptions;
  clusterOptions: ClusterOptions;
  client: Redis | Cluster | undefined;
  closeClient: boolean;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  counterFlushMs: number;
  batchReads: boolean;
  maxBatchKeys: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkHost(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidOptionError(option, value, 'a non-empty host name string');
  return value;
}

function checkPort(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidOptionError(option, value, 'an integer port between 1 and 65535');
  }
  return value;
}

function checkMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidOptionError(option, value, 'a finite number of milliseconds > 0');
  return value;
}

function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'a boolean');
  return value;
}

function checkBatchKeys(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2) throw new InvalidOptionError('maxBatchKeys', value, 'an integer >= 2');
  return value;
}

function checkOptionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(option, value, 'a string');
  return value;
}

function checkAddresses(option: string, value: unknown): RedisAddress[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new InvalidOptionError(option, value, 'a non-empty array of { host, port }');
  return value.map((item: unknown, i) => {
    if (!isPlainObject(item)) throw new InvalidOptionError(`${option}[${i}]`, item, 'an object { host, port }');
    return { host: checkHost(`${option}[${i}].host`, item.host), port: checkPort(`${option}[${i}].port`, item.port) };
  });
}

interface UrlParts {
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

function parseUrl(url: unknown): UrlParts {
  if (url === undefined) return {};
  const expected = 'a redis://[user:password@]host[:port][/db] or rediss:// URL';
  if (typeof url !== 'string') throw new InvalidOptionError('url', url, expected);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError('url', url, expected);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InvalidOptionError('url', url, expected);
  const parts: UrlParts = {};
  if (parsed.hostname) parts.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (parsed.port) parts.port = Number(parsed.port);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db)) throw new InvalidOptionError('url', url, `${expected} (db must be a number)`);
    parts.db = Number(db);
  }
  if (parsed.username) parts.username = decodeURIComponent(parsed.username);
  if (parsed.password) parts.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') parts.tls = true;
  return parts;
}

function isIoredisClient(value: unknown): value is Redis | Cluster {
  return isPlainObjectLike(value) && typeof value.getBuffer === 'function' && typeof value.status === 'string' && typeof value.on === 'function';
}

function isPlainObjectLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function checkLogger(value: unknown): void {
  if (value === undefined) return;
  const ok = isPlainObjectLike(value) && ['debug', 'info', 'warn', 'error'].every((level) => typeof value[level] === 'function');
  if (!ok) throw new InvalidOptionError('logger', value, 'a pino-compatible logger with debug/info/warn/error methods');
}

/** Checks options (InvalidOptionError names the first bad one) and fills in the defaults. */
export function resolveRedisOptions(options: RedisBackendOptions = {}): ResolvedRedisOptions {
  if (!isPlainObjectLike(options)) throw new InvalidOptionError('options', options, 'an options object');
  const url = parseUrl(options.url);
  const host = checkHost('host', options.host ?? url.host ?? REDIS_DEFAULTS.host);
  const port = checkPort('port', options.port ?? url.port ?? REDIS_DEFAULTS.port);
  const db = options.db ?? url.db ?? REDIS_DEFAULTS.db;
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0) throw new InvalidOptionError('db', db, 'an integer >= 0');
  const password = checkOptionalString('password', options.password) ?? url.password;
  const username = checkOptionalString('username', options.username) ?? url.username;
  const tlsOption = options.tls ?? url.tls ?? false;
  if (typeof tlsOption !== 'boolean' && !isPlainObject(tlsOption)) throw new InvalidOptionError('tls', tlsOption, 'a boolean or node:tls connection options');
  const tls = tlsOption === true ? {} : tlsOption === false ? undefined : tlsOption;
  const keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix === '') {
    throw new InvalidOptionError('keyPrefix', keyPrefix, 'a non-empty string (clear() removes every key that starts with it)');
  }
  const clusterNodes = checkAddresses('clusterNodes', options.clusterNodes);
  const sentinels = checkAddresses('sentinels', options.sentinels);
  const sentinelName = checkOptionalString('sentinelName', options.sentinelName);
  if (sentinels && (sentinelName === undefined || sentinelName === '')) {
    throw new InvalidOptionError('sentinelName', sentinelName, 'the name of the monitored master (required with sentinels)');
  }
  if (clusterNodes && sentinels) throw new InvalidOptionError('sentinels', options.sentinels, 'either clusterNodes or sentinels, not both');
  if (clusterNodes && db !== 0) throw new InvalidOptionError('db', db, '0 (a Redis Cluster has only database 0)');
  if (options.redisOptions !== undefined && !isPlainObject(options.redisOptions))
    throw new InvalidOptionError('redisOptions', options.redisOptions, 'an ioredis options object');
  if (options.clusterOptions !== undefined && !isPlainObject(options.clusterOptions)) {
    throw new InvalidOptionError('clusterOptions', options.clusterOptions, 'an ioredis Cluster options object');
  }
  if (options.redisOptions && 'keyPrefix' in options.redisOptions && options.redisOptions.keyPrefix !== undefined) {
    throw new InvalidOptionError(
      'redisOptions.keyPrefix',
      options.redisOptions.keyPrefix,
      'unset: use the keyPrefix option (ioredis keyPrefix does not apply to SCAN, so clear() would miss keys)',
    );
  }
  if (options.client !== undefined && !isIoredisClient(options.client))
    throw new InvalidOptionError('client', options.client, 'an ioredis Redis or Cluster instance');
  if (options.closeClient !== undefined && typeof options.closeClient !== 'boolean')
    throw new InvalidOptionError('closeClient', options.closeClient, 'a boolean');
  checkLogger(options.logger);
  if ((options as { timeoutMs?: unknown }).timeoutMs !== undefined) {
    throw new InvalidOptionError(
      'timeoutMs',
      (options as { timeoutMs?: unknown }).timeoutMs,
      'commandTimeoutMs: the backend option was renamed; timeoutMs is the ResponseCache deadline, which createRedisCache takes',
    );
  }
  return {
    host,
    port,
    db,
    password,
    username,
    tls,
    keyPrefix,
    clusterNodes,
    sentinels,
    sentinelName,
    redisOptions: options.redisOptions ?? {},
    clusterOptions: options.clusterOptions ?? {},
    client: options.client,
    closeClient: options.closeClient ?? false,
    commandTimeoutMs: checkMs('commandTimeoutMs', options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs),
    connectTimeoutMs: checkMs('connectTimeoutMs', options.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs),
    counterFlushMs: checkMs('counterFlushMs', options.counterFlushMs ?? REDIS_DEFAULTS.counterFlushMs),
    batchReads: checkBoolean('batchReads', options.batchReads ?? REDIS_DEFAULTS.batchReads),
    maxBatchKeys: checkBatchKeys(options.maxBatchKeys ?? REDIS_DEFAULTS.maxBatchKeys),
  };
}
