import { randomUUID } from 'node:crypto';
import type { CacheLeases, CacheLogger, LeaseAcquireResult } from '@tinyllm/cache-core';
import { firstConnection, type RedisClient } from './connect.js';

/** Infix of lease keys: `keyPrefix + "__lease:" + key`; cache keys starting with "__lease:" are reserved. */
export const LEASE_INFIX = '__lease:';
/** Suffix of the pub/sub channel (under keyPrefix) that announces released leases; the message is the cache key. */
export const LEASE_CHANNEL_SUFFIX = '__leases';

// Compare-and-set and compare-and-delete: only the holder's token may extend or remove a lease. Each
// script touches one key, so it runs on a Cluster as is; PUBLISH in a script reaches every node's
// subscribers (plain pub/sub is broadcast over the cluster bus).
const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1 end return 0";

const RENEW_COMMAND = 'tinyllmLeaseRenew';
const RELEASE_COMMAND = 'tinyllmLeaseRelease';

/** A client with the two lease scripts defined as commands (ioredis defineCommand). */
type ScriptedClient = RedisClient & Record<typeof RENEW_COMMAND | typeof RELEASE_COMMAND, (...args: string[]) => Promise<unknown>>;

/** What the leases need from their backend. */
export interface LeaseContext {
  /** The command client. */
  client: RedisClient;
  /** The backend's key prefix. */
  keyPrefix: string;
  /** Resolves once the first connection settled (commands before it would fail at once). */
  connected(): Promise<void> | undefined;
  /** Throws BackendClosedError after close(). */
  assertOpen(operation: string): void;
  /** How long the subscriber's first connection may take, in ms. */
  connectBoundMs: number;
  /** For subscriber trouble. */
  logger: CacheLogger;
}

/**
 * Redis leases: `SET lease token NX PX ttl` to take one, Lua compare-and-set / compare-and-delete to
 * renew and release it, and a release PUBLISHes the key on one channel under the prefix. Waiters
 * listen on a dedicated subscriber connection, created on the first wait; when it cannot subscribe,
 * a wait simply lasts its bounded timeoutMs (a poll).
 */
export class RedisLeases implements CacheLeases {
  readonly #context: LeaseContext;
  readonly #channel: string;
  readonly #waiters = new Map<string, Set<() => void>>();
  #subscriber: RedisClient | undefined;
  #subscribed: Promise<boolean> | undefined;
  #closed = false;

  constructor(context: LeaseContext) {
    this.#context = context;
    this.#channel = context.keyPrefix + LEASE_CHANNEL_SUFFIX;
    // EVALSHA (ioredis falls back to EVAL once per connection after a NOSCRIPT): the scripts' text
    // is not sent with every call. Defining a command on a supplied client adds only these names.
    const client = context.client as ScriptedClient;
    if (typeof client[RENEW_COMMAND] !== 'function') client.defineCommand(RENEW_COMMAND, { numberOfKeys: 1, lua: RENEW_SCRIPT });
    if (typeof client[RELEASE_COMMAND] !== 'function') client.defineCommand(RELEASE_COMMAND, { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  }

  /** SET NX PX with a fresh random token (a UUID: 122 random bits); undefined when the lease is held. */
  async acquire(key: string, ttlMs: number): Promise<LeaseAcquireResult> {
    this.#context.assertOpen('leaseAcquire');
    await this.#context.connected();
    // randomUUID draws from a cached entropy pool; randomBytes(16) made a getrandom call per lease (5 us here).
    const token = randomUUID();
    const reply = await this.#context.client.set(this.#leaseKey(key), token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return reply === 'OK' ? token : undefined;
  }

  /** PEXPIRE if the token still holds the lease (one script). */
  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    this.#context.assertOpen('leaseRenew');
    // Another instance's lease may be the first thing this one touches: wait for the connection, as
    // acquire does (enableOfflineQueue is off, so a command sent before it would fail at once).
    await this.#context.connected();
    const reply = await (this.#context.client as ScriptedClient)[RENEW_COMMAND](this.#leaseKey(key), token, String(Math.max(1, Math.ceil(ttlMs))));
    return reply === 1;
  }

  /** DEL and PUBLISH if the token still holds the lease (one script). */
  async release(key: string, token: string): Promise<boolean> {
    this.#context.assertOpen('leaseRelease');
    await this.#context.connected();
    const reply = await (this.#context.client as ScriptedClient)[RELEASE_COMMAND](this.#leaseKey(key), token, this.#channel, key);
    return reply === 1;
  }

  /** Resolves on the release message for key, when the lease is found gone, or after timeoutMs. */
  waitForOutcome(key: string, timeoutMs: number): Promise<void> {
    this.#context.assertOpen('leaseWait');
    return new Promise<void>((resolve) => {
      let waiters = this.#waiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(key, waiters);
      }
      const set = waiters;
      const finish = (): void => {
        clearTimeout(timer);
        set.delete(finish);
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key);
        resolve();
      };
      // Not unref'd: a process waiting for another's answer has work pending.
      const timer = setTimeout(finish, timeoutMs);
      set.add(finish);
      // Once subscribed, look at the lease once: a release published before the subscription (or a
      // lease that lapsed, which publishes nothing) is not waited for.
      void this.#subscribe()
        .then(async (subscribed) => {
          if (!subscribed) return 1;
          await this.#context.connected();
          return this.#context.client.exists(this.#leaseKey(key));
        })
        .then(
          (exists) => {
            if (exists === 0) finish();
          },
          () => {},
        );
    });
  }

  /** Wakes every waiter and drops the subscriber connection; idempotent. */
  close(): void {
    this.#closed = true;
    for (const set of [...this.#waiters.values()]) for (const finish of [...set]) finish();
    this.#waiters.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.disconnect();
  }

  #leaseKey(key: string): string {
    return this.#context.keyPrefix + LEASE_INFIX + key;
  }

  // The dedicated subscriber, connected and subscribed on first use; false (and a later retry) when
  // it cannot be. ioredis resubscribes by itself after a reconnect.
  #subscribe(): Promise<boolean> {
    if (this.#subscribed !== undefined) return this.#subscribed;
    if (this.#closed) return Promise.resolve(false);
    let subscriber = this.#subscriber;
    if (subscriber === undefined) {
      subscriber = this.#context.client.duplicate() as RedisClient;
      this.#subscriber = subscriber;
      subscriber.on('error', (error: unknown) => {
        this.#context.logger.debug({ backend: 'redis', event: 'lease_subscriber_error', err: error }, 'redis: lease subscriber connection failed');
      });
      subscriber.on('message', (channel: string, message: string) => {
        if (channel !== this.#channel) return;
        const waiters = this.#waiters.get(message);
        if (waiters !== undefined) for (const finish of [...waiters]) finish();
      });
    }
    const connecting = subscriber;
    const attempt = (async (): Promise<boolean> => {
      await firstConnection(connecting, this.#context.connectBoundMs);
      if (connecting.status !== 'ready') return false;
      await connecting.subscribe(this.#channel);
      return true;
    })().then(
      (ok) => ok,
      () => false,
    );
    this.#subscribed = attempt;
    void attempt.then((ok) => {
      // Try again on a later wait (meanwhile waits are bounded polls).
      if (!ok && this.#subscribed === attempt) this.#subscribed = undefined;
    });
    return attempt;
  }
}
