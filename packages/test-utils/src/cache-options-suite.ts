import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from './logger.js';

/** The slice of a ResponseCache this suite drives (structural, so this package depends on none of ours). */
export interface CacheUnderTest {
  /** TTL in seconds of entries set without one. */
  readonly defaultTtl: number | null;
  /** Seconds entries are kept past their TTL for stale-if-error. */
  readonly staleIfErrorTtl: number;
  /** Deadline of each backend call, in ms. */
  readonly timeoutMs: number;
  /** Deadline of clear() and getStats(), in ms. */
  readonly bulkTimeoutMs: number;
  /** Namespace of derived keys. */
  readonly namespace: string | undefined;
  /** Whether misses take a cross-process lease. */
  readonly crossProcessFlight: boolean;
  /** Lifetime of a cross-process lease, in ms. */
  readonly leaseTtlMs: number;
  /** The key of a request. */
  generateCacheKey(request: { model: string; [field: string]: unknown }): string;
  /** Stores a value. */
  set(key: string, value: unknown, options?: { ttl?: number | null }): Promise<boolean>;
  /** Reads a value. */
  get(key: string): Promise<unknown>;
  /** Reads an entry. */
  getEntry(key: string): Promise<{ expiresAt: number | null; staleUntil?: number | null } | undefined>;
  /** This process's counters. */
  getMetrics(): { hits: number; misses: number; sets: number; errors: number; totalRequests: number; savedDurationNs: number; savedTokens: number };
  /** Closes the cache and its backend. */
  close(): Promise<void>;
}

/** The ResponseCache options the suite checks, one case each (cache-core's tests compare this list with its own). */
export const CACHE_OPTIONS_COVERED = [
  'defaultTtl',
  'staleIfErrorTtl',
  'enableMetrics',
  'timeoutMs',
  'bulkTimeoutMs',
  'logger',
  'namespace',
  'savingsOf',
  'validate',
  'crossProcessFlight',
  'leaseTtlMs',
] as const;

/**
 * Registers one test per ResponseCache option, proving that a create*Cache factory hands it to the
 * cache it builds. `create` gets only the cache options under test; it adds whatever its backend
 * needs (a path, a key prefix) and must give every call a fresh, empty store.
 */
export function describeCacheOptions(label: string, create: (options: Record<string, unknown>) => CacheUnderTest | Promise<CacheUnderTest>): void {
  describe(`${label}: honours every ResponseCache option`, () => {
    const open: CacheUnderTest[] = [];
    const make = async (options: Record<string, unknown>): Promise<CacheUnderTest> => {
      const cache = await create(options);
      open.push(cache);
      return cache;
    };
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((cache) => cache.close()));
    });

    it('defaultTtl: seconds of an entry set without a TTL; null never expires', async () => {
      const cache = await make({ defaultTtl: 120 });
      expect(cache.defaultTtl).toBe(120);
      const before = Date.now();
      await cache.set('k', 'v');
      const expiresAt = (await cache.getEntry('k'))?.expiresAt ?? 0;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
      const forever = await make({ defaultTtl: null });
      await forever.set('k', 'v');
      expect((await forever.getEntry('k'))?.expiresAt).toBeNull();
    });

    it('staleIfErrorTtl: entries are written with a stale window that many seconds past their expiry', async () => {
      const cache = await make({ staleIfErrorTtl: 30, defaultTtl: 60 });
      expect(cache.staleIfErrorTtl).toBe(30);
      await cache.set('k', 'v');
      const entry = await cache.getEntry('k');
      expect(entry?.staleUntil).toBe((entry?.expiresAt ?? 0) + 30_000);
      const off = await make({});
      expect(off.staleIfErrorTtl).toBe(0);
      await off.set('k', 'v');
      expect((await off.getEntry('k'))?.staleUntil ?? null).toBeNull();
    });

    it('enableMetrics: false counts nothing', async () => {
      const cache = await make({ enableMetrics: false });
      await cache.set('k', 'v');
      await cache.get('k');
      await cache.get('absent');
      expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 0, sets: 0, totalRequests: 0 });
    });

    it('timeoutMs and bulkTimeoutMs: the deadlines the cache runs with', async () => {
      const cache = await make({ timeoutMs: 400, bulkTimeoutMs: 3_000 });
      expect(cache.timeoutMs).toBe(400);
      expect(cache.bulkTimeoutMs).toBe(3_000);
      expect((await make({ timeoutMs: 300 })).bulkTimeoutMs).toBe(6_000);
    });

    it('logger: hears the cache’s events', async () => {
      const logger = recordingLogger();
      const cache = await make({ logger });
      await cache.get('absent');
      expect(logger.records.some((record) => record.context.event === 'cache_miss')).toBe(true);
    });

    it('namespace: written in front of every derived key', async () => {
      const cache = await make({ namespace: 'tenant-x' });
      expect(cache.namespace).toBe('tenant-x');
      expect(cache.generateCacheKey({ model: 'm', prompt: 'p' })).toMatch(/^tenant-x:[0-9a-f]{64}$/);
    });

    it('savingsOf: what hits saved is counted', async () => {
      const cache = await make({ savingsOf: (value: { ns: number }) => ({ durationNs: value.ns, tokens: 3 }) });
      await cache.set('k', { ns: 500 });
      await cache.get('k');
      await cache.get('k');
      expect(cache.getMetrics()).toMatchObject({ hits: 2, savedDurationNs: 1000, savedTokens: 6 });
    });

    it('validate: a stored value it rejects is not served (a miss plus an error)', async () => {
      const cache = await make({ validate: (value: unknown) => (value as { ok?: unknown }).ok === true });
      await cache.set('bad', { ok: false });
      await cache.set('good', { ok: true });
      expect(await cache.get('bad')).toBeUndefined();
      expect(await cache.get('good')).toEqual({ ok: true });
      expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 1, errors: 1 });
    });

    it('crossProcessFlight: false turns cross-process single flight off', async () => {
      expect((await make({ crossProcessFlight: false })).crossProcessFlight).toBe(false);
      expect(typeof (await make({})).crossProcessFlight).toBe('boolean');
    });

    it('leaseTtlMs: the lifetime of a cross-process lease', async () => {
      expect((await make({ leaseTtlMs: 2_000 })).leaseTtlMs).toBe(2_000);
      expect((await make({})).leaseTtlMs).toBe(5_000);
    });
  });
}
