/**
 * The route table: which requests the cache engine sees, which are the proxy's own, and which pass
 * through. Routes are constants, so classifying a request allocates nothing.
 */

/** The endpoints whose answers the engine caches. */
export type CachedEndpointName = 'generate' | 'chat' | 'embed' | 'embeddings' | 'openai-chat' | 'openai-completions' | 'openai-embeddings';

/** Which API's error shape a route answers in: Ollama's `{"error": "..."}` or OpenAI's `{"error": {message, type, param, code}}`. */
export type ApiFlavor = 'ollama' | 'openai';

/** One route of the table. */
export interface Route {
  /** Stable id, used as the metrics label, e.g. "generate", "passthrough", "tinyllm_metrics". */
  readonly id: string;
  /** Position of id in ROUTE_IDS (the counters' row). */
  readonly index: number;
  /** cached: POST on an endpoint the engine caches; passthrough: forwarded untouched; ops: the proxy's own /tinyllm/ routes. */
  readonly kind: 'cached' | 'passthrough' | 'ops';
  /** The error shape of this route. */
  readonly api: ApiFlavor;
  /** The cached endpoint (kind cached only). */
  readonly endpoint?: CachedEndpointName;
}

/** A cached route: POST on an endpoint the engine caches. */
export interface CachedRoute extends Route {
  readonly kind: 'cached';
  readonly endpoint: CachedEndpointName;
}

/** Every route id, in the order metrics list them (Route.index is the position here). */
export const ROUTE_IDS: readonly string[] = Object.freeze([
  'generate',
  'chat',
  'embed',
  'embeddings',
  'openai-chat',
  'openai-completions',
  'openai-embeddings',
  'passthrough',
  'tinyllm_health',
  'tinyllm_ready',
  'tinyllm_metrics',
  'tinyllm_stats',
  'tinyllm_clear',
  'tinyllm_entries',
  'tinyllm_entry',
  'tinyllm_prune',
  'tinyllm_export',
  'tinyllm_import',
  'tinyllm_activity',
  'tinyllm_dashboard',
  'tinyllm_unknown',
]);

function route<R extends Route>(fields: Omit<R, 'index'>): R {
  const index = ROUTE_IDS.indexOf(fields.id);
  if (index === -1) throw new Error(`route ${fields.id} is missing from ROUTE_IDS`);
  return Object.freeze({ ...fields, index }) as R;
}

const cached = (endpoint: CachedEndpointName, api: ApiFlavor): CachedRoute => route<CachedRoute>({ id: endpoint, kind: 'cached', api, endpoint });
const ops = (id: string): Route => route({ id, kind: 'ops', api: 'ollama' });

/** The cached routes by path (POST only). */
export const CACHED_ROUTES: Readonly<Record<string, CachedRoute>> = Object.freeze({
  '/api/generate': cached('generate', 'ollama'),
  '/api/chat': cached('chat', 'ollama'),
  '/api/embed': cached('embed', 'ollama'),
  '/api/embeddings': cached('embeddings', 'ollama'),
  '/v1/chat/completions': cached('openai-chat', 'openai'),
  '/v1/completions': cached('openai-completions', 'openai'),
  '/v1/embeddings': cached('openai-embeddings', 'openai'),
});

/** Every other Ollama request, forwarded as is. */
export const PASSTHROUGH: Route = route({ id: 'passthrough', kind: 'passthrough', api: 'ollama' });
/** The same for /v1/* paths (errors the proxy itself answers use OpenAI's shape). */
export const PASSTHROUGH_OPENAI: Route = route({ id: 'passthrough', kind: 'passthrough', api: 'openai' });

/** The operations routes under OPS_PREFIX, by path. */
export const OPS_ROUTES: Readonly<Record<string, Route>> = Object.freeze({
  '/tinyllm/health': ops('tinyllm_health'),
  '/tinyllm/ready': ops('tinyllm_ready'),
  '/tinyllm/metrics': ops('tinyllm_metrics'),
  '/tinyllm/stats': ops('tinyllm_stats'),
  '/tinyllm/clear': ops('tinyllm_clear'),
  '/tinyllm/entries': ops('tinyllm_entries'),
  '/tinyllm/prune': ops('tinyllm_prune'),
  '/tinyllm/export': ops('tinyllm_export'),
  '/tinyllm/import': ops('tinyllm_import'),
  '/tinyllm/activity': ops('tinyllm_activity'),
  '/tinyllm/dashboard': ops('tinyllm_dashboard'),
});
/** One entry, by key: /tinyllm/entries/<key>. */
export const OPS_ENTRY: Route = ops('tinyllm_entry');
/** The prefix of OPS_ENTRY's paths. */
export const OPS_ENTRY_PREFIX = '/tinyllm/entries/';
/** Any other path under OPS_PREFIX (answered 404 by the proxy, never forwarded). */
export const OPS_UNKNOWN: Route = ops('tinyllm_unknown');

/** The prefix of the proxy's own routes; Ollama has no route under it. */
export const OPS_PREFIX = '/tinyllm/';

/** The pathname of a request target: everything before '?'. */
export function pathnameOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** The route of a request, from its method and pathname (namespace prefix already removed). */
export function classify(method: string, pathname: string): Route {
  if (method === 'POST') {
    const route = CACHED_ROUTES[pathname];
    if (route !== undefined) return route;
  }
  if (pathname.startsWith(OPS_PREFIX) || pathname === '/tinyllm') {
    return OPS_ROUTES[pathname] ?? (pathname.startsWith(OPS_ENTRY_PREFIX) && pathname.length > OPS_ENTRY_PREFIX.length ? OPS_ENTRY : OPS_UNKNOWN);
  }
  return pathname.startsWith('/v1/') ? PASSTHROUGH_OPENAI : PASSTHROUGH;
}

/** Ollama's model routes: every POST on them runs (or loads) a model, cached or not. */
export const GENERATION_PATHS: ReadonlySet<string> = new Set([...Object.keys(CACHED_ROUTES), '/v1/responses', '/v1/messages']);

/**
 * True for a request to one of Ollama's model routes (GENERATION_PATHS). Ollama routes on the
 * percent-decoded path, so `/api/%67enerate` is a generation too.
 */
export function isGenerationPath(method: string | undefined, pathname: string): boolean {
  if (method !== 'POST') return false;
  if (GENERATION_PATHS.has(pathname)) return true;
  if (!pathname.includes('%')) return false;
  try {
    return GENERATION_PATHS.has(decodeURIComponent(pathname));
  } catch {
    return false;
  }
}
