export {
  AccessControl,
  checkFullNamespace,
  DEFAULT_OPS_ACCESS,
  type KeysSource,
  type KeysSummary,
  type OpsAccess,
  type OpsAccessLevel,
  TENANT_SEPARATOR,
  tenantNamespace,
} from './access.js';
export type { ProxyCache } from './cache.js';
export {
  checkNamespace,
  DEFAULT_CONTROLS,
  MAX_NAMESPACE_LENGTH,
  MAX_TTL_SECONDS,
  NAMESPACE_HEADER,
  type NamespacedPath,
  parseControls,
  parseTtlHeader,
  type RequestControls,
  resolveNamespace,
  splitNamespacePath,
  TTL_HEADER,
} from './controls.js';
export {
  CACHE_LABELS,
  type CacheHeaderStatus,
  LatencyHistogram,
  ProxyCounters,
  UPSTREAM_LATENCY_BUCKETS_SECONDS,
  type UpstreamErrorKind,
} from './counters.js';
export {
  BodyTooLargeError,
  ForbiddenError,
  InvalidControlError,
  InvalidKeysFileError,
  RateLimitedError,
  UnauthorizedError,
  UpstreamBusyError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './errors.js';
export { keepFreedMemoryForReuse } from './freed-memory.js';
export { BUSY_RETRY_AFTER_SECONDS, type ReleaseSlot, UpstreamGate } from './gate.js';
export { type CachedRouteHandler, type CachedRouteRequest, ProxyHandler, passThroughCachedRoute } from './handler.js';
export { keyPrefixOf } from './key-prefix.js';
export {
  bearerKey,
  KeyRing,
  type KeySpec,
  type KeysConfig,
  MAX_KEY_LENGTH,
  MIN_KEY_LENGTH,
  type Principal,
  type RateLimitSpec,
  type Role,
} from './keys.js';
export { createProxyLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type ProxyLogger, type ProxyLoggerOptions } from './logger.js';
export { isLoopbackHost } from './loopback.js';
export { createProxyMetrics, type ProxyMetrics, type ProxyMetricsOptions } from './metrics.js';
export { authorizeOps, denyOps, type NamespaceStatsReport, type OpsExchange, type OpsOperation, operationOf, READY_PROBE_KEY } from './ops.js';
export { PROXY_DEFAULTS, type ProxyHandlerOptions, type ProxyServerOptions } from './options.js';
export {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  createOriginPolicy,
  isSameOrigin,
  OLLAMA_LOCAL_ORIGINS,
  type OriginPolicy,
  ollamaDefaultOrigins,
} from './origin.js';
export { createProxyHandler, type RunningProxy, startProxy, type TinyllmProxyHandler } from './proxy.js';
export { errorBody, openAiErrorType } from './respond.js';
export {
  type ApiFlavor,
  CACHED_ROUTES,
  type CachedEndpointName,
  type CachedRoute,
  classify,
  GENERATION_PATHS,
  isGenerationPath,
  OPS_PREFIX,
  ROUTE_IDS,
  type Route,
} from './routes.js';
export { redactUrl, Upstream, type UpstreamCall, type UpstreamProbe, type UpstreamSettings } from './upstream.js';
