import {
  BackendBase,
  type BackendCapabilities,
  BackendError,
  type BackendStats,
  type CacheEntry,
  type CacheLogger,
  decodeEntry,
  type EntryInfo,
  encodeEntry,
  entryInfoOf,
  type ListOptions,
  retainedUntil,
  type ScopeOptions,
  type SharedCounters,
  silentLogger,
  TinyLLMError,
} from '@tinyllm/cache-core';
import { ANY_CODEC_TAG, CODEC_TAG, decodeEntryHead, listBatchSize } from '@tinyllm/cache-core/internal';
import { type Connection, effectiveCommandTimeout, firstConnection, openConnection, openStreams, type RedisClient, watchConnection } from './connect.js';
import { addModelCounters, COUNTER_FIELDS, CounterBuffer, parseCounters, parseModelCounters } from './counters.js';
import { LEASE_INFIX, RedisLeases } from './leases.js';
import { REDIS_DEFAULTS, type RedisBackendOptions, type ResolvedRedisOptions, resolveRedisOptions } from './options.js';
import { ReadBatcher } from './read-batch.js';
import { inspectKeys, readHeads, ScanFailure, scanBatches, scanPrefix, unlinkKeys } from './scan.js';

/** Suffix of the hash (under keyPrefix) holding the shared counters; the cache key "__stats" is reserved. */
export const COUNTERS_SUFFIX = '__stats';

const CAPABILITIES: BackendCapabilities = Object.freeze({ shared: true, persistent: true, network: true, evicts: false, lists: true, staleIfError: true });

/** How long close() waits for the counters flush, and then for QUIT, before dropping the connection, in ms. */
const QUIT_GRACE_MS = REDIS_DEFAULTS.quitGraceMs;

/** Resolves when promise settles or after ms, whichever is first; never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    elapsed,
  ]);
  clearTimeout(timer);
}

/** Reads createdAt from the start of an encoded entry ("tlc1:[1700000000000,..."), or undefined. */
function createdAtOf(head: string): number | undefined {
  if (!head.startsWith(`${CODEC_TAG}[`)) return undefined;
  const end = head.indexOf(',', CODEC_TAG.length + 1);
  const value = Number(head.slice(CODEC_TAG.length + 1, end));
  return end > 0 && Number.isFinite(value) ? value : undefined;
}

/** Whether an encoded entry's expiresAt (its second field) has passed: such a key is only kept for stale-if-error. */
function expiredByHead(head: string, now: number): boolean {
  if (!head.startsWith(`${CODEC_TAG}[`)) return false;
  const start = head.indexOf(',', CODEC_TAG.length + 1) + 1;
  const end = head.indexOf(',', start);
  if (start <= 0 || end < 0) return false;
  const value = Number(head.slice(start, end));
  return head.slice(start, end) !== 'null' && Number.isFinite(value) && value <= now;
}

/**
 * A CacheBackend on Redis through ioredis: standalone, Cluster or Sentinel. Entries are stored as
 * `keyPrefix + key` strings in the cache-core codec with a PX expiry; clear() and stats() SCAN the
 * prefix on every master and touch only values that are cache entries. Shared counters live in the
 * hash `keyPrefix + "__stats"`.
 */
export class RedisBackend extends BackendBase<'async'> {
  /** "redis". */
  readonly name = 'redis';
  /**
   * shared, persistent, network; once the first connection has settled, and when this backend
   * created the client and that client's effective commandTimeout (after redisOptions /
   * clusterOptions.redisOptions overrides) is at most commandTimeoutMs, also settlesWithinMs (that
   * timeout), so a ResponseCache with a deadline at least as long runs no timer of its own per call.
   */
  get capabilities(): BackendCapabilities {
    return this.#connecting === undefined && this.#bounded ? this.#bounded : CAPABILITIES;
  }
  /** Prefix of every key this backend writes. */
  readonly keyPrefix: string;
  /** The ioredis client (Redis or Cluster). */
  readonly client: RedisClient;
  /**
   * Cross-process single flight: a lease per key at `keyPrefix + "__lease:" + key` (SET NX PX),
   * renewed and released by compare-and-set/delete scripts; releases are published on the channel
   * `keyPrefix + "__leases"`, which waiters hear on a dedicated subscriber connection.
   */
  readonly leases: RedisLeases;
  readonly #options: ResolvedRedisOptions;
  readonly #connection: Connection;
  readonly #logger: CacheLogger;
  readonly #countersKey: string;
  readonly #leasePrefix: string;
  readonly #counters: CounterBuffer;
  readonly #unwatch: () => void;
  readonly #bounded: BackendCapabilities | undefined;
  readonly #batcher: ReadBatcher | undefined;
  #connecting: Promise<void> | undefined;

  /** Connects with the given options (or adopts options.client); throws InvalidOptionError for a bad option. */
  constructor(options: RedisBackendOptions = {}) {
    super('async');
    this.#options = resolveRedisOptions(options);
    this.#logger = options.logger ?? silentLogger;
    this.keyPrefix = this.#options.keyPrefix;
    this.#countersKey = this.keyPrefix + COUNTERS_SUFFIX;
    this.#leasePrefix = this.keyPrefix + LEASE_INFIX;
    this.#connection = openConnection(this.#options);
    this.client = this.#connection.client;
    this.#unwatch = watchConnection(this.#connection, this.#logger);
    // ioredis's commandTimeout bounds every command of a client this backend configured (with the
    // offline queue off, a command on a down connection fails at once); a client handed in may not.
    // The bound is the client's effective timeout (an override may raise or remove it), and none is
    // advertised when that is missing or longer than commandTimeoutMs: ResponseCache trusts it blindly.
    const commandTimeout = this.#connection.owned ? effectiveCommandTimeout(this.client) : undefined;
    this.#bounded =
      commandTimeout !== undefined && commandTimeout <= this.#options.commandTimeoutMs
        ? Object.freeze({ ...CAPABILITIES, settlesWithinMs: commandTimeout })
        : undefined;
    this.#counters = new CounterBuffer(
      (deltas) => {
        const pipeline = this.client.pipeline();
        for (const [field, value] of deltas) pipeline.hincrby(this.#countersKey, field, value);
        return pipeline.exec();
      },
      () => this.client.status === 'ready',
      this.#options.counterFlushMs,
      this.#logger,
    );
    this.#batcher = this.#options.batchReads
      ? new ReadBatcher({ client: this.client, connecting: () => this.#connecting, maxKeys: this.#options.maxBatchKeys })
      : undefined;
    const first = firstConnection(this.client, this.#options.connectTimeoutMs + this.#options.commandTimeoutMs);
    if (first) {
      this.#connecting = first.then(() => {
        this.#connecting = undefined;
      });
    }
    this.leases = new RedisLeases({
      client: this.client,
      keyPrefix: this.keyPrefix,
      connected: () => this.#connecting,
      assertOpen: (operation) => this.assertOpen(operation),
      connectBoundMs: this.#options.connectTimeoutMs + this.#options.commandTimeoutMs,
      logger: this.#logger,
    });
  }

  // Keys under the prefix that are ours but not entries: the counters hash and the leases.
  #isEntryKey(key: string): boolean {
    return key !== this.#countersKey && !key.startsWith(this.#leasePrefix);
  }

  /** Resolves true once connected, false when the first connection attempt failed or timed out (calls then fail fast until ioredis reconnects). */
  async ready(): Promise<boolean> {
    if (this.#connecting) await this.#connecting;
    return this.client.status === 'ready';
  }

  /** Buffers counter deltas (and model's, when given); they reach Redis (HINCRBY) within counterFlushMs. Never waits, never throws; ignored after close(). */
  recordCounters(delta: Partial<SharedCounters>, model?: string): void {
    this.#counters.add(delta, model);
  }

  /** The counters in Redis (every process's flushed deltas) plus this instance's unflushed ones. */
  async readCounters(): Promise<SharedCounters> {
    this.assertOpen('readCounters');
    if (this.#connecting) await this.#connecting;
    let hash: Record<string, string>;
    try {
      hash = await this.client.hgetall(this.#countersKey);
    } catch (error) {
      throw this.#wrap('readCounters', error);
    }
    const counts = parseCounters(hash);
    const pending = this.#counters.pending();
    for (const field of COUNTER_FIELDS) counts[field] += pending[field];
    return { ...counts, byModel: addModelCounters(parseModelCounters(hash), this.#counters.pendingModels()) };
  }

  /** Deletes the counters hash (for every process sharing the prefix) and this instance's unflushed deltas. */
  async resetCounters(): Promise<void> {
    this.assertOpen('resetCounters');
    if (this.#connecting) await this.#connecting;
    this.#counters.discard();
    try {
      await this.client.unlink(this.#countersKey);
    } catch (error) {
      throw this.#wrap('resetCounters', error);
    }
  }

  /** The decoded entry (GET, or one MGET for the lookups of a tick with batchReads), undefined when absent; a value that does not decode throws CacheDecodeError (ResponseCache: a miss plus an error). */
  protected read(key: string): Promise<CacheEntry | undefined> {
    if (this.#batcher) return this.#batcher.read(this.keyPrefix + key);
    // Not async: one promise per hit fewer on the 256-in-flight path.
    const fetch = (): Promise<CacheEntry | undefined> =>
      this.client.getBuffer(this.keyPrefix + key).then((raw) => (raw === null ? undefined : decodeEntry(raw)));
    return this.#connecting ? this.#connecting.then(fetch) : fetch();
  }

  /** SET with PX until entry.expiresAt, or its staleUntil when later (stale-if-error); no expiry when expiresAt is null. */
  protected async write(key: string, entry: CacheEntry, valueJson: string): Promise<undefined> {
    if (this.#connecting) await this.#connecting;
    const redisKey = this.keyPrefix + key;
    const encoded = encodeEntry(entry, valueJson);
    const until = retainedUntil(entry);
    if (until === null) await this.client.set(redisKey, encoded);
    else await this.client.set(redisKey, encoded, 'PX', Math.max(1, Math.ceil(until - Date.now())));
    return undefined;
  }

  /** UNLINK; true when the key existed. */
  protected async remove(key: string): Promise<boolean> {
    if (this.#connecting) await this.#connecting;
    return (await this.client.unlink(this.keyPrefix + key)) > 0;
  }

  /** GET and the entry's expiry: a key past its TTL may still be kept for stale-if-error (Redis drops it at its staleUntil). */
  protected override async contains(key: string): Promise<boolean> {
    const entry = await this.read(key);
    return entry !== undefined && (entry.expiresAt === null || entry.expiresAt > Date.now());
  }

  /**
   * Removes the cache entries under keyPrefix (+ scope) (SCAN MATCH + UNLINK in batches, on every
   * master of a cluster; never FLUSHDB or KEYS) and returns how many went. Keys that are not cache
   * entries (another type, a value without a codec tag) and the shared counters are left alone; a
   * warning says how many. A cluster that is not connected throws BackendError; with a master down,
   * the others are still cleared and the BackendError says how many entries were removed.
   */
  protected async removeAll(scope: string | undefined): Promise<number> {
    if (this.#connecting) await this.#connecting;
    const prefix = this.keyPrefix + (scope ?? '');
    let removed = 0;
    let foreign = 0;
    try {
      await scanPrefix(this.client, prefix, async (node, keys) => {
        const found = await inspectKeys(
          node,
          keys.filter((k) => this.#isEntryKey(k)),
        );
        foreign += found.foreign;
        // Not `removed += await ...`: that reads `removed` before the await, and nodes run in parallel.
        const count = await unlinkKeys(
          node,
          found.entries.map((entry) => entry.key),
          this.client.isCluster,
        );
        removed += count;
      });
    } catch (error) {
      throw this.#wrap('clear', error, `${removed} entries removed`);
    } finally {
      this.#warnForeign(foreign, prefix, 'clear');
    }
    return removed;
  }

  /**
   * Cache entries under keyPrefix (+ scope) (a SCAN over every master), their bytes (STRLEN), the
   * oldest/newest createdAt, and foreignKeys: keys under the prefix that are not cache entries.
   * O(entries). A cluster that is not connected, or a master that fails, throws BackendError (never
   * a partial count).
   */
  protected async measure(scope: string | undefined): Promise<BackendStats> {
    if (this.#connecting) await this.#connecting;
    const prefix = this.keyPrefix + (scope ?? '');
    const now = Date.now();
    let entries = 0;
    let stale = 0;
    let bytes = 0;
    let foreignKeys = 0;
    let oldest: number | null = null;
    let newest: number | null = null;
    try {
      await scanPrefix(this.client, prefix, async (node, keys) => {
        const found = await inspectKeys(
          node,
          keys.filter((k) => this.#isEntryKey(k)),
        );
        foreignKeys += found.foreign;
        for (const entry of found.entries) {
          bytes += entry.bytes;
          if (expiredByHead(entry.head, now)) {
            stale++;
            continue;
          }
          entries++;
          const createdAt = createdAtOf(entry.head);
          if (createdAt === undefined) continue;
          if (oldest === null || createdAt < oldest) oldest = createdAt;
          if (newest === null || createdAt > newest) newest = createdAt;
        }
      });
    } catch (error) {
      throw this.#wrap('stats', error);
    }
    this.#warnForeign(foreignKeys, prefix, 'stats');
    return { entries, stale, bytes, oldestCreatedAt: oldest, newestCreatedAt: newest, foreignKeys };
  }

  /**
   * The metadata of every cache entry under keyPrefix (+ options.namespace + ":"): SCAN on every
   * master (one after the other) in batches of batchSize, each batch's metadata read with one
   * pipelined GETRANGE of the entries' first bytes (a full GET only for an entry whose head is
   * longer), so neither values nor the whole keyspace are ever held. Foreign keys and the counters
   * hash are skipped. Redis counts no accesses: accessCount is 0 and lastAccess the write.
   */
  async *list(options?: ListOptions): AsyncGenerator<EntryInfo> {
    this.assertOpen('list');
    const batchSize = listBatchSize(options);
    if (this.#connecting) await this.#connecting;
    const prefix = this.keyPrefix + (options?.namespace === undefined ? '' : `${options.namespace}:`);
    try {
      for await (const { node, keys: scanned } of scanBatches(this.client, prefix, batchSize)) {
        this.assertOpen('list');
        const keys = scanned.filter((k) => k !== this.#countersKey);
        const heads = await readHeads(node, keys);
        const batch: EntryInfo[] = [];
        for (let i = 0; i < keys.length; i++) {
          const head = heads[i];
          if (head === null || head === undefined || !ANY_CODEC_TAG.test(head)) continue;
          const redisKey = keys[i] as string;
          const key = redisKey.slice(this.keyPrefix.length);
          const meta = decodeEntryHead(head) ?? (await this.#fullHead(node, redisKey));
          // A key past its expiry is kept only for stale-if-error (PX runs to staleUntil): not an entry.
          if (meta !== undefined && (meta.expiresAt === null || meta.expiresAt > Date.now())) batch.push(entryInfoOf(key, meta));
        }
        yield* batch;
      }
    } catch (error) {
      throw this.#wrap('list', error);
    }
  }

  /** The entry under key (GET): Redis counts no accesses, so this is get() without the expiry bookkeeping. */
  async peek(key: string): Promise<CacheEntry | undefined> {
    this.assertOpen('peek');
    if (this.#connecting) await this.#connecting;
    let raw: Buffer | null;
    try {
      raw = await this.client.getBuffer(this.keyPrefix + key);
    } catch (error) {
      throw this.#wrap('peek', error);
    }
    if (raw === null) return undefined;
    const entry = decodeEntry(raw);
    // Past its expiry it is only kept for stale-if-error: peek, like get, never returns it.
    return entry.expiresAt !== null && entry.expiresAt <= Date.now() ? undefined : entry;
  }

  /** Redis drops expired keys itself (PX): nothing to prune, so 0. */
  async prune(_options?: ScopeOptions): Promise<number> {
    this.assertOpen('prune');
    return 0;
  }

  // The metadata of an entry whose model or endpoint name runs past the head a listing reads.
  async #fullHead(node: import('ioredis').Redis, redisKey: string): Promise<ReturnType<typeof decodeEntryHead>> {
    const raw = await node.getBuffer(redisKey);
    if (raw === null) return undefined;
    try {
      const entry = decodeEntry(raw);
      return { ...entry, model: entry.model ?? null, endpoint: entry.endpoint ?? null };
    } catch {
      return undefined;
    }
  }

  /** Flushes buffered counters, then quits the client if this backend created it (or closeClient). */
  protected override async shutdown(): Promise<void> {
    this.#counters.stop();
    this.leases.close();
    // Bounded: a lost reply is never resent (autoResendUnfulfilledCommands off), so without a
    // commandTimeout (overridden, or a supplied client) the flush could wait forever.
    await settledWithin(this.#counters.flush(), QUIT_GRACE_MS);
    if (!this.#connection.owned && !this.#options.closeClient) {
      this.#unwatch();
      return;
    }
    const client = this.client;
    if (client.status === 'end') return;
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, QUIT_GRACE_MS);
    });
    // QUIT lets pending replies arrive; a client that is not connected is simply dropped.
    if (client.status === 'ready') client.quit().catch(() => {});
    else client.disconnect();
    await Promise.race([ended, grace]);
    clearTimeout(timer);
    // Past the grace period (a hung server): drop the connection, stop reconnecting, and destroy
    // the sockets now (disconnect() only ends them; a hung peer never closes its side), so nothing
    // keeps the process alive.
    if ((client.status as string) !== 'end') {
      const streams = openStreams(client);
      client.disconnect();
      for (const stream of streams) stream.destroy();
      await settledWithin(ended, 50); // 'end' follows the sockets' close events
    }
  }

  #warnForeign(count: number, prefix: string, operation: string): void {
    if (count === 0) return;
    this.#logger.warn(
      { backend: this.name, event: 'foreign_keys', operation, foreignKeys: count, prefix },
      `redis: ${count} keys under "${prefix}" are not cache entries; ${operation} left them alone`,
    );
  }

  /** A BackendError for a failed call (detail is appended to the message); cause is ioredis's error. */
  #wrap(operation: string, error: unknown, detail?: string): Error {
    if (TinyLLMError.isInstance(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof ScanFailure ? error.cause : error;
    return new BackendError(this.name, operation, detail === undefined ? message : `${message}; ${detail}`, { cause });
  }
}
