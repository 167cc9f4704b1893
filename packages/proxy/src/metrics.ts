/**
 * Prometheus metrics (prom-client): every value is read at scrape time from the proxy's plain
 * counters and the cache's own metrics, so the request path never touches prom-client.
 */
import type { CacheStats } from '@tinyllm/cache-core';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ProxyCache } from './cache.js';
import { CACHE_LABELS, type LatencyHistogram, type ProxyCounters } from './counters.js';
import type { UpstreamGate } from './gate.js';
import { ROUTE_IDS } from './routes.js';

/** The metrics endpoint's registry and its scrape. */
export interface ProxyMetrics {
  /** The prom-client registry (add your own metrics to it if you like). */
  readonly registry: Registry;
  /** Content-Type of the scrape. */
  readonly contentType: string;
  /** Reads every value and renders the Prometheus text format. */
  scrape(): Promise<string>;
}

/** Options of createProxyMetrics. */
export interface ProxyMetricsOptions {
  /** The proxy's counters. */
  counters: ProxyCounters;
  /** The cache whose metrics and size are exported, when there is one. */
  cache: ProxyCache | undefined;
  /** Also export prom-client's default process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
  /** Deadline for reading the cache's stats at scrape time, in ms. Default 1000. */
  cacheTimeoutMs?: number;
  /** The bound on generations at Ollama, for its gauges. Default: none. */
  gate?: UpstreamGate;
}

/** A histogram whose buckets are counted elsewhere (plain numbers); it renders them in prom-client's format. */
class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly source: LatencyHistogram,
  ) {}

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }>;
  } {
    const { bounds, counts } = this.source;
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    let cumulative = 0;
    bounds.forEach((bound, i) => {
      cumulative += counts[i] as number;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: bound }, value: cumulative });
    });
    cumulative += counts[bounds.length] as number;
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.source.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.source.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A counter whose value is read at scrape time. */
function scrapedCounter(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const value = read();
      if (value !== undefined && value > 0) this.inc(value);
    },
  });
}

/** A gauge whose value is read at scrape time. */
function scrapedGauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read() ?? 0);
    },
  });
}

/**
 * The proxy's metrics: requests by route and cache status, in flight, client aborts, refused
 * requests, upstream calls, errors and latency, and the cache's hits, misses, sets, evictions,
 * errors, coalesced calls, time and tokens saved, entries and bytes.
 */
export function createProxyMetrics(options: ProxyMetricsOptions): ProxyMetrics {
  const { counters, cache } = options;
  const cacheTimeoutMs = options.cacheTimeoutMs ?? 1000;
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  new Counter({
    name: 'tinyllm_proxy_requests_total',
    help: 'Requests answered, by route and cache status (none: the cache was not involved).',
    labelNames: ['route', 'cache'],
    registers: [registry],
    collect() {
      this.reset();
      ROUTE_IDS.forEach((route, r) => {
        CACHE_LABELS.forEach((label, c) => {
          const value = counters.requests[r * CACHE_LABELS.length + c] as number;
          if (value > 0) this.inc({ route, cache: label }, value);
        });
      });
    },
  });
  scrapedGauge(registry, 'tinyllm_proxy_requests_in_flight', 'Requests being answered right now.', () => counters.inFlight);
  scrapedCounter(registry, 'tinyllm_proxy_client_aborts_total', 'Requests whose client went away before the answer was complete.', () => counters.clientAborts);
  scrapedCounter(registry, 'tinyllm_proxy_bad_controls_total', 'Requests refused with 400 for a bad cache control or namespace.', () => counters.badControls);
  scrapedCounter(
    registry,
    'tinyllm_proxy_body_too_large_total',
    'Requests refused with 413 (body over the limit on a cached route).',
    () => counters.bodyTooLarge,
  );
  scrapedCounter(registry, 'tinyllm_upstream_requests_total', 'Requests sent to Ollama.', () => counters.upstreamRequests);
  new Counter({
    name: 'tinyllm_upstream_errors_total',
    help: 'Requests to Ollama that failed, by kind (unreachable, timeout, broken after the answer started).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ kind: 'unreachable' }, counters.upstreamUnreachable);
      this.inc({ kind: 'timeout' }, counters.upstreamTimeouts);
      this.inc({ kind: 'broken' }, counters.upstreamBroken);
    },
  });
  scrapedCounter(registry, 'tinyllm_proxy_unauthorized_total', 'Requests refused with 401 (no valid API key).', () => counters.unauthorized);
  scrapedCounter(registry, 'tinyllm_proxy_forbidden_total', "Requests refused with 403 (an operation the key's role may not use).", () => counters.forbidden);
  scrapedCounter(registry, 'tinyllm_proxy_rate_limited_total', 'Requests refused with 429 (a tenant over its rate limit).', () => counters.rateLimited);
  scrapedCounter(
    registry,
    'tinyllm_upstream_busy_total',
    'Requests refused with 503 because the generation bound and its queue were full.',
    () => counters.upstreamBusy,
  );
  const gate = options.gate;
  if (gate !== undefined) {
    scrapedGauge(registry, 'tinyllm_upstream_generations_active', 'Generations running at Ollama (slots of the bound held).', () => gate.active);
    scrapedGauge(registry, 'tinyllm_upstream_generations_queued', 'Requests waiting for a generation slot.', () => gate.queued);
    scrapedGauge(registry, 'tinyllm_upstream_generations_limit', 'The bound on generations at Ollama (0: none).', () => gate.maxActive);
  }
  new Counter({
    name: 'tinyllm_tenant_requests_total',
    help: 'Requests answered, by tenant (API keys) and cache status.',
    labelNames: ['tenant', 'cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [tenant, row] of counters.tenantRequests) {
        CACHE_LABELS.forEach((label, c) => {
          const value = row[c] as number;
          if (value > 0) this.inc({ tenant, cache: label }, value);
        });
      }
    },
  });
  new Counter({
    name: 'tinyllm_tenant_rate_limited_total',
    help: 'Requests refused with 429, by tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [tenant, value] of counters.tenantRateLimited) this.inc({ tenant }, value);
    },
  });
  registry.registerMetric(
    new ScrapedHistogram(
      'tinyllm_upstream_latency_seconds',
      "Time until Ollama's response headers, in seconds.",
      counters.upstreamLatency,
    ) as unknown as Parameters<Registry['registerMetric']>[0],
  );

  // The cache's figures are read once per scrape (before rendering), then served to each family.
  let stats: CacheStats | undefined;
  const m = (read: (s: CacheStats) => number | undefined) => (): number | undefined => (stats === undefined ? undefined : read(stats));
  if (cache !== undefined) {
    scrapedCounter(
      registry,
      'tinyllm_cache_hits_total',
      'Lookups answered from the cache (this process).',
      m((s) => s.metrics.hits),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_misses_total',
      'Lookups that found nothing (this process).',
      m((s) => s.metrics.misses),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_sets_total',
      'Entries written (this process).',
      m((s) => s.metrics.sets),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_evictions_total',
      'Entries the store evicted to respect its bounds.',
      m((s) => Math.max(s.metrics.evictions, s.backend?.evictions ?? 0)),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_errors_total',
      'Cache operations that failed or timed out (each fell through to Ollama).',
      m((s) => s.metrics.errors),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_coalesced_total',
      'Misses that joined an identical request already in flight.',
      m((s) => s.metrics.coalesced),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_coalesced_remote_total',
      'Misses answered by another process sharing the store: this one waited on its lease, then read its entry (X-Cache: HIT).',
      m((s) => s.metrics.coalescedRemote ?? 0),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_stale_total',
      'Expired answers served because Ollama failed (stale-if-error); never counted as hits.',
      m((s) => s.metrics.stale),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_saved_seconds_total',
      'Ollama time that hits saved, in seconds.',
      m((s) => s.metrics.savedDurationNs / 1e9),
    );
    scrapedCounter(
      registry,
      'tinyllm_cache_saved_tokens_total',
      'Tokens that hits saved (prompt and answer).',
      m((s) => s.metrics.savedTokens),
    );
    scrapedGauge(
      registry,
      'tinyllm_cache_entries',
      'Entries in the store.',
      m((s) => s.backend?.entries),
    );
    scrapedGauge(
      registry,
      'tinyllm_cache_bytes',
      'Bytes of the stored entries, where the store knows.',
      m((s) => s.backend?.bytes),
    );
    scrapedGauge(registry, 'tinyllm_cache_up', '1 when the store answered the last scrape in time, else 0.', () => (stats?.backend === undefined ? 0 : 1));
  }

  return {
    registry,
    contentType: registry.contentType,
    async scrape(): Promise<string> {
      if (cache !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        try {
          stats = await Promise.race([
            cache.getStats(),
            new Promise<undefined>((resolve) => {
              timer = setTimeout(() => resolve(undefined), cacheTimeoutMs);
            }),
          ]);
        } catch {
          stats = undefined;
        } finally {
          clearTimeout(timer);
        }
      }
      return registry.metrics();
    },
  };
}
