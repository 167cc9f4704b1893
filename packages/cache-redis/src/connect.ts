import type { CacheLogger } from '@tinyllm/cache-core';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type ResolvedRedisOptions, safeClusterOptions, safeRedisOptions } from './options.js';

/** An ioredis client this backend talks through. */
export type RedisClient = Redis | Cluster;

/** The client plus what the backend needs to know about it. */
export interface Connection {
  /** The ioredis Redis or Cluster. */
  client: RedisClient;
  /** True when this package created the client (so close() quits it). */
  owned: boolean;
  /** Where it points, for log messages ("127.0.0.1:6379", "cluster 10.0.0.1:7000,...", "sentinel mymaster"). */
  address: string;
}

/** Opens (or adopts) the ioredis client the options describe, with the safe defaults under the user's overrides. */
export function openConnection(options: ResolvedRedisOptions): Connection {
  if (options.client) {
    const client = options.client;
    const address = client.isCluster ? 'cluster (supplied client)' : `${(client as Redis).options.host}:${(client as Redis).options.port}`;
    return { client, owned: false, address };
  }
  const auth: RedisOptions = {};
  if (options.password !== undefined) auth.password = options.password;
  if (options.username !== undefined) auth.username = options.username;
  if (options.tls !== undefined) auth.tls = options.tls;
  const safe = safeRedisOptions(options.commandTimeoutMs, options.connectTimeoutMs);
  if (options.clusterNodes) {
    const {
      retryStrategy: _retry,
      enableOfflineQueue: _queue,
      lazyConnect: _lazy,
      enableAutoPipelining: _pipelining,
      sentinelCommandTimeout: _sentinel,
      ...nodeSafe
    } = safe;
    const client = new Cluster(options.clusterNodes, {
      ...safeClusterOptions(),
      ...options.clusterOptions,
      redisOptions: { ...nodeSafe, ...auth, ...options.redisOptions, ...options.clusterOptions.redisOptions },
    });
    return { client, owned: true, address: `cluster ${options.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}` };
  }
  if (options.sentinels) {
    const client = new Redis({
      ...safe,
      ...auth,
      db: options.db,
      sentinels: options.sentinels,
      name: options.sentinelName,
      ...options.redisOptions,
    });
    return { client, owned: true, address: `sentinel master ${options.sentinelName}` };
  }
  const client = new Redis({ ...safe, ...auth, host: options.host, port: options.port, db: options.db, ...options.redisOptions });
  return { client, owned: true, address: `${options.host}:${options.port}` };
}

/**
 * The commandTimeout that bounds every command of client, in ms, or undefined when none does: the
 * client's own (a cluster's per-node one), after every override. A cluster with its offline queue on
 * queues commands before any node sees them (no timer yet), so it has no bound either.
 */
export function effectiveCommandTimeout(client: RedisClient): number | undefined {
  let timeout: unknown;
  if (client.isCluster) {
    const options = (client as Cluster).options;
    if (options.enableOfflineQueue !== false) return undefined;
    timeout = options.redisOptions?.commandTimeout;
  } else {
    timeout = (client as Redis).options.commandTimeout;
  }
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}

/** The sockets client has open right now (a cluster's: one per node it knows). */
export function openStreams(client: RedisClient): Array<{ destroy(): void }> {
  const nodes = client.isCluster ? (client as Cluster).nodes() : [client as Redis];
  return nodes.flatMap((node) => (node.stream && !node.stream.destroyed ? [node.stream] : []));
}

/** A readable reason for a connection error, with what to do about it. */
export function describeConnectionError(error: unknown, address: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return `authentication failed at ${address}: check the password/username (${message})`;
  }
  if (code === 'ECONNREFUSED') return `connection refused at ${address}: is redis-server running there?`;
  if (code === 'ETIMEDOUT' || /ETIMEDOUT/.test(message)) return `connecting to ${address} timed out`;
  if (/Ready check failed/.test(message)) return `${address} accepted the connection but did not answer (${message})`;
  return `${address}: ${message}`;
}

/**
 * Logs connection trouble without flooding: the first occurrence of each distinct error at error
 * level, repeats while still disconnected at debug level, and recovery at info level. Returns a
 * function that removes the listeners (for supplied clients on close()). The 'error' listener also
 * keeps an ioredis error from becoming an uncaught exception.
 */
export function watchConnection(connection: Connection, logger: CacheLogger): () => void {
  const { client, address } = connection;
  let lastLogged: string | undefined;
  const onError = (error: unknown): void => {
    const reason = describeConnectionError(error, address);
    if (reason === lastLogged) {
      logger.debug({ backend: 'redis', event: 'redis_error', address, err: error }, `redis: ${reason}`);
      return;
    }
    lastLogged = reason;
    logger.error({ backend: 'redis', event: 'redis_error', address, err: error }, `redis: ${reason}; cache calls fall through until it recovers`);
  };
  const onNodeError = (error: unknown, node?: string): void => {
    logger.warn(
      { backend: 'redis', event: 'redis_node_error', address: node ?? address, err: error },
      `redis cluster node ${node ?? ''}: ${describeConnectionError(error, node ?? address)}`,
    );
  };
  const onReady = (): void => {
    if (lastLogged !== undefined) logger.info({ backend: 'redis', event: 'redis_ready', address }, `redis: connected to ${address} again`);
    else logger.debug({ backend: 'redis', event: 'redis_ready', address }, `redis: connected to ${address}`);
    lastLogged = undefined;
  };
  client.on('error', onError);
  client.on('ready', onReady);
  if (client.isCluster) client.on('node error', onNodeError);
  return () => {
    client.off('error', onError);
    client.off('ready', onReady);
    client.off('node error', onNodeError);
  };
}

/**
 * Starts the client's connection if it has not started, and resolves (never rejects) once it is
 * ready, once the first attempt failed, or after boundMs: the first cache calls wait for the first
 * connection, and never longer than that.
 */
export function firstConnection(client: RedisClient, boundMs: number): Promise<void> | undefined {
  if (client.status === 'ready') return undefined;
  if (client.status === 'end' || client.status === 'close') return undefined;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      client.off('close', done);
      client.off('end', done);
      resolve();
    };
    const timer = setTimeout(done, boundMs);
    timer.unref();
    client.once('ready', done);
    client.once('error', done);
    client.once('close', done);
    client.once('end', done);
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}
