import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheLeases, LeaseAcquireResult } from '@tinyllm/cache-core';
import type Database from 'better-sqlite3';

/**
 * Longest wait of one lease write for another process's write lock, in ms. better-sqlite3 blocks the
 * event loop while it waits, so a busy acquire is tried again from a timer (every LEASE_POLL_MS, up
 * to the backend's busyTimeoutMs in all) rather than blocking longer; renew and release are not
 * retried (a lease only saves work: it lapses on its own). Long enough for other cache processes'
 * short transactions on an idle machine; a loaded one can hold the lock longer.
 */
export const LEASE_BUSY_TIMEOUT_MS = 100;

/** How often a waiter looks at a lease row again, in ms: SQLite has no notifications, and a read needs no lock (WAL). */
export const LEASE_POLL_MS = 20;

/** What the leases need from their backend. */
export interface SqliteLeaseContext {
  /** The open database (schema version 3 or later: the leases table). */
  db: Database.Database;
  /** The backend's namespace. */
  namespace: string;
  /** Runs a driver call, turning driver errors into BackendError. */
  run<T>(operation: string, work: () => T): T;
  /** Runs a write, waiting at most LEASE_BUSY_TIMEOUT_MS for another process's lock (then BackendError). */
  write<T>(operation: string, work: () => T): T;
  /** Throws BackendClosedError after close(). */
  assertOpen(operation: string): void;
  /** True when a write failed only because another process held the lock past LEASE_BUSY_TIMEOUT_MS. */
  isBusy(error: unknown): boolean;
  /** How long a busy acquire keeps trying in all, in ms (the backend's busyTimeoutMs). */
  patienceMs: number;
}

/**
 * SQLite leases: a row (namespace, key, token, expires_at) in the `leases` table. Taking one is a
 * single UPSERT (its own write transaction) that inserts, or takes over a lapsed row; renew and
 * release compare the token. Waiters poll the row every LEASE_POLL_MS (a read, no lock needed).
 */
export class SqliteLeases implements CacheLeases {
  readonly #context: SqliteLeaseContext;
  readonly #acquire: Database.Statement;
  readonly #renew: Database.Statement;
  readonly #release: Database.Statement;
  readonly #held: Database.Statement;

  constructor(context: SqliteLeaseContext) {
    this.#context = context;
    const { db } = context;
    this.#acquire = db.prepare(
      `INSERT INTO leases (namespace, key, token, expires_at) VALUES (:ns, :key, :token, :expiresAt)
       ON CONFLICT (namespace, key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at WHERE leases.expires_at <= :now`,
    );
    this.#renew = db.prepare('UPDATE leases SET expires_at = :expiresAt WHERE namespace = :ns AND key = :key AND token = :token AND expires_at > :now');
    this.#release = db.prepare('DELETE FROM leases WHERE namespace = :ns AND key = :key AND token = :token');
    this.#held = db.prepare('SELECT 1 FROM leases WHERE namespace = ? AND key = ? AND expires_at > ?').pluck();
  }

  /**
   * Inserts the lease row, or takes over a lapsed one; undefined when another holder's row is live.
   * Synchronous when the write lock is free; while another process holds it, a promise that tries
   * again every LEASE_POLL_MS and rejects (BackendError) once patienceMs passed. (Giving up after
   * one blocked wait let a loaded machine's processes each compute the same answer.)
   */
  acquire(key: string, ttlMs: number): LeaseAcquireResult | Promise<LeaseAcquireResult> {
    this.#context.assertOpen('leaseAcquire');
    try {
      return this.#tryAcquire(key, ttlMs);
    } catch (error) {
      if (!this.#context.isBusy(error) || this.#context.patienceMs <= LEASE_BUSY_TIMEOUT_MS) throw error;
      return this.#acquireWhenFree(key, ttlMs, Date.now() + this.#context.patienceMs - LEASE_BUSY_TIMEOUT_MS);
    }
  }

  async #acquireWhenFree(key: string, ttlMs: number, until: number): Promise<LeaseAcquireResult> {
    for (;;) {
      await sleep(LEASE_POLL_MS);
      this.#context.assertOpen('leaseAcquire');
      try {
        return this.#tryAcquire(key, ttlMs);
      } catch (error) {
        if (!this.#context.isBusy(error) || Date.now() >= until) throw error;
      }
    }
  }

  #tryAcquire(key: string, ttlMs: number): LeaseAcquireResult {
    const now = Date.now();
    // randomUUID draws from a cached entropy pool; randomBytes(16) made a getrandom call per lease (5 us here).
    const token = randomUUID();
    const { changes } = this.#context.write('leaseAcquire', () =>
      this.#acquire.run({ ns: this.#context.namespace, key, token, expiresAt: now + Math.ceil(ttlMs), now }),
    );
    return changes === 1 ? token : undefined;
  }

  /** Moves the row's expiry if the token still holds a live lease. */
  renew(key: string, token: string, ttlMs: number): boolean {
    this.#context.assertOpen('leaseRenew');
    const now = Date.now();
    const { changes } = this.#context.write('leaseRenew', () =>
      this.#renew.run({ ns: this.#context.namespace, key, token, expiresAt: now + Math.ceil(ttlMs), now }),
    );
    return changes === 1;
  }

  /** Deletes the row if the token still holds it. */
  release(key: string, token: string): boolean {
    this.#context.assertOpen('leaseRelease');
    const { changes } = this.#context.write('leaseRelease', () => this.#release.run({ ns: this.#context.namespace, key, token }));
    return changes === 1;
  }

  /** Polls the row until it is gone or lapsed, or timeoutMs passed. */
  async waitForOutcome(key: string, timeoutMs: number): Promise<void> {
    this.#context.assertOpen('leaseWait');
    const until = Date.now() + timeoutMs;
    while (this.#isHeld(key) && Date.now() < until) {
      await sleep(Math.min(LEASE_POLL_MS, Math.max(1, until - Date.now())));
    }
  }

  #isHeld(key: string): boolean {
    // A closed backend ends the wait (the caller's next call reports the closed state).
    try {
      this.#context.assertOpen('leaseWait');
    } catch {
      return false;
    }
    return this.#context.run('leaseWait', () => this.#held.get(this.#context.namespace, key, Date.now())) !== undefined;
  }
}
