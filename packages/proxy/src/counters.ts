/**
 * The proxy's counters: plain numbers and typed arrays bumped on the request path, read by the
 * metrics endpoint at scrape time. Nothing here allocates per request.
 */
import { ActivityLog } from './activity.js';
import { ROUTE_IDS } from './routes.js';

/** What the X-Cache response header says (and the `cache` label of the request counter). */
export type CacheHeaderStatus = 'HIT' | 'MISS' | 'BYPASS' | 'COALESCED' | 'STALE';

/** The `cache` label values, in counter order: NONE for requests the cache never saw (pass-through, operations). */
export const CACHE_LABELS = ['none', 'hit', 'miss', 'bypass', 'coalesced', 'stale'] as const;

const STATUS_INDEX: Record<CacheHeaderStatus, number> = { HIT: 1, MISS: 2, BYPASS: 3, COALESCED: 4, STALE: 5 };

/** The index in CACHE_LABELS of an X-Cache status (0 = none). */
export function cacheLabelIndex(status: CacheHeaderStatus | undefined): number {
  return status === undefined ? 0 : STATUS_INDEX[status];
}

/** Why an upstream call failed. */
export type UpstreamErrorKind = 'unreachable' | 'timeout' | 'broken';

/** Upper bounds of the upstream latency histogram, in seconds (time until Ollama's response headers). */
export const UPSTREAM_LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
]);

/** A fixed-bucket histogram of plain numbers (cumulative counts are computed at scrape time). */
export class LatencyHistogram {
  /** Upper bounds, in seconds. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  /** Sum of every observation, in seconds. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  constructor(bounds: readonly number[] = UPSTREAM_LATENCY_BUCKETS_SECONDS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one duration, in seconds. */
  observe(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += seconds;
    this.count++;
  }
}

/** Every counter of one proxy. */
export class ProxyCounters {
  /** Recent requests and the per-status timeline the dashboard shows. */
  readonly activity = new ActivityLog();
  /** Finished requests by route and cache status: index route.index * CACHE_LABELS.length + cacheLabelIndex(status). */
  readonly requests = new Float64Array(ROUTE_IDS.length * CACHE_LABELS.length);
  /** Requests being served right now. */
  inFlight = 0;
  /** Requests whose client went away before the answer was complete. */
  clientAborts = 0;
  /** Requests refused with 400 for a bad control (header or namespace). */
  badControls = 0;
  /** Requests refused with 413 (body over the limit on a cached route). */
  bodyTooLarge = 0;
  /** Requests sent to the upstream Ollama. */
  upstreamRequests = 0;
  /** Upstream calls that failed: cannot connect. */
  upstreamUnreachable = 0;
  /** Upstream calls that failed: no headers (or no next bytes) within upstreamTimeoutMs. */
  upstreamTimeouts = 0;
  /** Upstream calls that broke after the answer had started. */
  upstreamBroken = 0;
  /** Time until Ollama's response headers. */
  readonly upstreamLatency = new LatencyHistogram();
  /** Requests refused with 401 (no valid API key while the proxy has keys). */
  unauthorized = 0;
  /** Requests refused with 403 (an operation the key's role may not use). */
  forbidden = 0;
  /** Requests refused with 429 (a tenant over its rate limit). */
  rateLimited = 0;
  /** Requests refused with 503 because the generation bound and its queue were full. */
  upstreamBusy = 0;
  /** Finished requests by tenant, each a row like `requests` (by cache status). Bounded by the keys file's tenants. */
  readonly tenantRequests = new Map<string, Float64Array>();
  /** 429s by tenant. */
  readonly tenantRateLimited = new Map<string, number>();

  /** Counts one finished request. */
  countRequest(routeIndex: number, status: CacheHeaderStatus | undefined): void {
    const i = routeIndex * CACHE_LABELS.length + cacheLabelIndex(status);
    this.requests[i] = (this.requests[i] as number) + 1;
  }

  /** Counts one finished request of a tenant. */
  countTenantRequest(tenant: string, status: CacheHeaderStatus | undefined): void {
    let row = this.tenantRequests.get(tenant);
    if (row === undefined) {
      row = new Float64Array(CACHE_LABELS.length);
      this.tenantRequests.set(tenant, row);
    }
    const i = cacheLabelIndex(status);
    row[i] = (row[i] as number) + 1;
  }

  /** Counts one 429 of a tenant. */
  countRateLimited(tenant: string): void {
    this.rateLimited++;
    this.tenantRateLimited.set(tenant, (this.tenantRateLimited.get(tenant) ?? 0) + 1);
  }

  /** A tenant's finished requests of a cache label (for stats and tests). */
  tenantRequestsOf(tenant: string, cacheLabel: (typeof CACHE_LABELS)[number]): number {
    return (this.tenantRequests.get(tenant)?.[CACHE_LABELS.indexOf(cacheLabel)] as number | undefined) ?? 0;
  }

  /** Counts one failed upstream call. */
  countUpstreamError(kind: UpstreamErrorKind): void {
    if (kind === 'unreachable') this.upstreamUnreachable++;
    else if (kind === 'timeout') this.upstreamTimeouts++;
    else this.upstreamBroken++;
  }

  /** Upstream calls that failed, every kind. */
  get upstreamErrors(): number {
    return this.upstreamUnreachable + this.upstreamTimeouts + this.upstreamBroken;
  }

  /** Finished requests of a route id and cache label (for tests and reports). */
  requestsOf(routeId: string, cacheLabel: (typeof CACHE_LABELS)[number] = 'none'): number {
    const r = ROUTE_IDS.indexOf(routeId);
    const c = CACHE_LABELS.indexOf(cacheLabel);
    if (r === -1 || c === -1) return 0;
    return this.requests[r * CACHE_LABELS.length + c] as number;
  }
}
