/**
 * Ollama's two request guards: the gin-contrib/cors middleware (Origin, preflight) and
 * allowedHostsMiddleware (Host), in that order (server/routes.go:1776-1874, cors@v1.7.2).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces, hostname as osHostname } from 'node:os';

/** The origins Ollama always allows besides OLLAMA_ORIGINS (envconfig/config.go:86-109). */
export const BUILT_IN_ORIGINS: readonly string[] = [
  ...['localhost', '127.0.0.1', '0.0.0.0'].flatMap((h) => [`http://${h}`, `https://${h}`, `http://${h}:*`, `https://${h}:*`]),
  'app://*',
  'file://*',
  'tauri://*',
  'vscode-webview://*',
  'vscode-file://*',
];

/** Access-Control-Allow-Methods of a preflight answer (cors.DefaultConfig). */
export const CORS_ALLOW_METHODS = 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS';

/** Access-Control-Allow-Headers of a preflight answer (Ollama's list, canonicalised like Go). */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'User-Agent',
  'Accept',
  'X-Requested-With',
  'Openai-Beta',
  ...[
    'arch',
    'async',
    'custom-poll-interval',
    'helper-method',
    'lang',
    'os',
    'package-version',
    'poll-helper',
    'retry-count',
    'runtime',
    'runtime-version',
    'timeout',
  ].map((h) => `X-Stainless-${h.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`)}`),
].join(',');

/** Access-Control-Max-Age of a preflight answer: 12 hours, in seconds. */
export const CORS_MAX_AGE_SECONDS = 43_200;

const ALLOWED_SCHEMAS = ['http://', 'https://', 'chrome-extension://', 'safari-extension://', 'moz-extension://', 'ms-browser-extension://'];

/** Splits OLLAMA_ORIGINS as Ollama does (trimmed of spaces and quotes, split on commas). */
export function originsFromEnv(value: string | undefined): string[] {
  const v = (value ?? '').trim().replace(/^["']+|["']+$/g, '');
  return v === '' ? [] : v.split(',');
}

/** Decides which browser origins may call the server, like gin-contrib/cors with Ollama's config. */
export class OriginPolicy {
  /** True when "*" is among the origins: every origin passes and answers carry `Access-Control-Allow-Origin: *`. */
  readonly allowAll: boolean;
  private readonly exact: Set<string>;
  private readonly wildcards: Array<[string, string]>;

  /** Builds the policy from the configured origins (OLLAMA_ORIGINS) plus Ollama's built-in ones; throws on an origin Ollama refuses to start with. */
  constructor(configured: readonly string[] = []) {
    const all = [...configured, ...BUILT_IN_ORIGINS];
    this.allowAll = all.includes('*');
    for (const o of all) {
      if (!o.includes('*') && !ALLOWED_SCHEMAS.some((s) => o.startsWith(s))) {
        throw new RangeError(`bad origin ${JSON.stringify(o)}: origins must contain '*' or include ${ALLOWED_SCHEMAS.join(',')}`);
      }
      if ((o.match(/\*/g) ?? []).length > 1) throw new RangeError(`bad origin ${JSON.stringify(o)}: only one * is allowed`);
    }
    this.exact = new Set(all.map((o) => o.trim().toLowerCase()));
    this.wildcards = all
      .filter((o) => o.includes('*') && o !== '*')
      .map((o) => {
        const i = o.indexOf('*');
        return [o.slice(0, i), o.slice(i + 1)];
      });
  }

  /** Whether a request with this `Origin` header is let through. */
  allows(origin: string): boolean {
    if (this.allowAll || this.exact.has(origin)) return true;
    return this.wildcards.some(([prefix, suffix]) => origin.startsWith(prefix) && origin.endsWith(suffix));
  }
}

function ipv4Parts(ip: string): number[] | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? (isIP(ip) === 4 ? ip : undefined);
  return v4?.split('.').map(Number);
}

/** Loopback, private, unspecified (netip's IsLoopback, IsPrivate, IsUnspecified). */
export function isLocalIp(ip: string): boolean {
  const v4 = ipv4Parts(ip);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || v4.every((x) => x === 0);
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower === '::' || /^f[cd]/.test(lower);
}

function isInterfaceIp(ip: string): boolean {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === ip.toLowerCase()) return true;
  }
  return false;
}

/** Splits a Host header into its host part (Go's net.SplitHostPort, falling back to the whole value). */
export function hostOf(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1] as string;
  const colon = hostHeader.lastIndexOf(':');
  if (colon >= 0 && hostHeader.indexOf(':') === colon) return hostHeader.slice(0, colon);
  return hostHeader;
}

/** allowedHost in routes.go: empty, localhost, this machine's name, or *.localhost, *.local, *.internal. */
export function isAllowedHostName(host: string): boolean {
  const h = host.toLowerCase();
  if (h === '' || h === 'localhost' || h === osHostname().toLowerCase()) return true;
  return ['.localhost', '.local', '.internal'].some((tld) => h.endsWith(tld));
}

/** What the Host guard decides for one request on a loopback listener. */
export type HostVerdict = 'pass' | 'preflight' | 'forbidden';

/** The Host guard of a loopback listener: local IPs pass, local names pass (OPTIONS → 204), the rest → 403. */
export function checkHost(hostHeader: string, method: string): HostVerdict {
  const host = hostOf(hostHeader);
  if (isIP(host) !== 0) return isLocalIp(host) || isInterfaceIp(host) ? 'pass' : 'forbidden';
  if (isAllowedHostName(host)) return method === 'OPTIONS' ? 'preflight' : 'pass';
  return 'forbidden';
}

/** True for a listening address on which Ollama enforces the Host guard. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = ipv4Parts(address);
  return v4 ? v4[0] === 127 : address === '::1';
}

/**
 * Runs both guards; true when the request was answered (403, or 204 to a preflight) and must
 * not reach a route. Otherwise the CORS headers an allowed Origin earns are already set on `res`.
 */
export function applyGuards(req: IncomingMessage, res: ServerResponse, policy: OriginPolicy, hostGuard: boolean): boolean {
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? '';
  const origin = req.headers.origin ?? '';
  if (origin !== '' && origin !== `http://${host}` && origin !== `https://${host}`) {
    if (!policy.allows(origin)) {
      answerEmpty(res, 403);
      return true;
    }
    if (method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
      if (policy.allowAll) res.setHeader('Access-Control-Allow-Origin', '*');
      else {
        res.setHeader('Vary', ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']);
        res.setHeader('Access-Control-Allow-Origin', origin);
      }
      answerEmpty(res, 204);
      return true;
    }
    if (policy.allowAll) res.setHeader('Access-Control-Allow-Origin', '*');
    else {
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Origin', origin);
    }
  }
  if (!hostGuard) return false;
  const verdict = checkHost(host, method);
  if (verdict === 'pass') return false;
  answerEmpty(res, verdict === 'preflight' ? 204 : 403);
  return true;
}

// gin's AbortWithStatus: no body and no Content-Type (Go adds Content-Length: 0, except on a 204).
function answerEmpty(res: ServerResponse, status: number): void {
  if (status !== 204) res.setHeader('Content-Length', '0');
  res.writeHead(status);
  res.end();
}
