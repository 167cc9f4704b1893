/** Per-tenant request rate limits: one token bucket per tenant, refilled continuously, no timer. */
import type { RateLimitSpec } from './keys.js';

interface Bucket {
  /** Tokens per ms. */
  rate: number;
  burst: number;
  requestsPerMinute: number;
  tokens: number;
  updatedAt: number;
}

/** Token buckets by tenant. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  /**
   * Sets the limits (after a keys file was read). A tenant whose limit is unchanged keeps its
   * bucket, so a reload neither forgives nor punishes anyone; tenants without a limit are free.
   */
  configure(limits: ReadonlyMap<string, Required<RateLimitSpec>>): void {
    for (const tenant of this.#buckets.keys()) if (!limits.has(tenant)) this.#buckets.delete(tenant);
    const now = performance.now();
    for (const [tenant, { requestsPerMinute, burst }] of limits) {
      const old = this.#buckets.get(tenant);
      if (old !== undefined && old.requestsPerMinute === requestsPerMinute && old.burst === burst) continue;
      this.#buckets.set(tenant, { rate: requestsPerMinute / 60_000, burst, requestsPerMinute, tokens: burst, updatedAt: now });
    }
  }

  /** Takes one request from the tenant's bucket: 0 when it may go on, else the whole seconds to wait (Retry-After). */
  take(tenant: string): number {
    const bucket = this.#buckets.get(tenant);
    if (bucket === undefined) return 0;
    const now = performance.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.updatedAt) * bucket.rate);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / bucket.rate / 1000));
  }

  /** The tenant's requests per minute, when it has a limit. */
  limitOf(tenant: string): number | undefined {
    return this.#buckets.get(tenant)?.requestsPerMinute;
  }
}
