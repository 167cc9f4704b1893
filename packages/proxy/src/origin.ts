/**
 * Browser clients: which Origins the proxy accepts, and the CORS headers it answers with. The
 * defaults are Ollama's own (envconfig.AllowedOrigins plus gin-contrib/cors matching), so a page
 * that works against Ollama works against the proxy, and one that Ollama refuses is refused here.
 */

/** Ollama's built-in origins, after OLLAMA_ORIGINS (envconfig/config.go AllowedOrigins). */
export const OLLAMA_LOCAL_ORIGINS: readonly string[] = Object.freeze([
  ...['localhost', '127.0.0.1', '0.0.0.0'].flatMap((host) => [`http://${host}`, `https://${host}`, `http://${host}:*`, `https://${host}:*`]),
  'app://*',
  'file://*',
  'tauri://*',
  'vscode-webview://*',
  'vscode-file://*',
]);

/** Request headers a preflight may ask for: Ollama's list (OpenAI SDK headers included) plus the proxy's own controls. */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'User-Agent',
  'Accept',
  'X-Requested-With',
  'OpenAI-Beta',
  'x-stainless-arch',
  'x-stainless-async',
  'x-stainless-custom-poll-interval',
  'x-stainless-helper-method',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-poll-helper',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'Cache-Control',
  'X-TinyLLM-TTL',
  'X-TinyLLM-Namespace',
].join(',');

/** Methods a preflight is told are allowed (Ollama's list). */
export const CORS_ALLOW_METHODS = 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS';
/** How long a browser may remember a preflight, in seconds (Ollama's 12 hours). */
export const CORS_MAX_AGE_SECONDS = 43_200;
/** Response headers a page's script may read: the cache's own. */
export const CORS_EXPOSE_HEADERS = 'X-Cache,Age,X-TinyLLM-Key';

/** The origins Ollama itself accepts: OLLAMA_ORIGINS (comma-separated, quotes around the whole value ignored, as Ollama does) first, then its built-in local origins. */
export function ollamaDefaultOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.OLLAMA_ORIGINS ?? '')
    .trim()
    .replace(/^["']+|["']+$/g, '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  return [...fromEnv, ...OLLAMA_LOCAL_ORIGINS];
}

/** Decides which Origins may use the proxy. */
export interface OriginPolicy {
  /** True when "*" is in the list: every origin is allowed and answered `Access-Control-Allow-Origin: *`. */
  readonly allowAll: boolean;
  /** True when a request with this Origin may proceed. */
  allows(origin: string): boolean;
}

/**
 * An origin policy from a list of patterns, matched like gin-contrib/cors (Ollama's CORS layer):
 * exact origins (compared lower-cased), one `*` wildcard per pattern (prefix + suffix, e.g.
 * `http://localhost:*`, `app://*`, `https://*.example.com`), or `*` alone for every origin.
 */
export function createOriginPolicy(patterns: readonly string[]): OriginPolicy {
  const exact = new Set<string>();
  const wildcards: Array<[string, string]> = [];
  let allowAll = false;
  for (const raw of patterns) {
    const pattern = raw.trim().toLowerCase();
    if (pattern === '') continue;
    if (pattern === '*') {
      allowAll = true;
      continue;
    }
    const star = pattern.indexOf('*');
    if (star === -1) exact.add(pattern);
    else wildcards.push([pattern.slice(0, star), pattern.slice(star + 1)]);
  }
  return {
    allowAll,
    allows(origin: string): boolean {
      if (allowAll || exact.has(origin)) return true;
      for (const [prefix, suffix] of wildcards) {
        if (origin.length >= prefix.length + suffix.length && origin.startsWith(prefix) && origin.endsWith(suffix)) return true;
      }
      return false;
    },
  };
}

/** True when Origin names the server the request was sent to (`http(s)://<Host>`): not a cross-origin request. */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}
