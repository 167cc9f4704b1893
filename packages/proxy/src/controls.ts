/**
 * Per-request cache controls, parsed from the request's headers and path: pure functions, no I/O.
 * A request without any control gets one shared frozen object, so the common case allocates nothing.
 */
import { InvalidControlError } from './errors.js';

/** What a request asks of the cache, beyond its body. */
export interface RequestControls {
  /** `Cache-Control: no-cache`: skip the cached answer, ask the model, store the fresh answer. */
  readonly noCache: boolean;
  /** `Cache-Control: no-store`: do not store this answer (it may still be served from the cache). */
  readonly noStore: boolean;
  /** `Cache-Control: only-if-cached`: answer from the cache or fail (504); never ask the model. */
  readonly onlyIfCached: boolean;
  /** `Cache-Control: max-age=N`: accept a stored answer at most this many seconds old; undefined = any age. */
  readonly maxAgeSeconds: number | undefined;
  /** `Cache-Control: stale-if-error=N`: when the model fails, an answer expired at most this many seconds ago may be served; undefined = never. */
  readonly staleIfErrorSeconds: number | undefined;
  /** `X-TinyLLM-TTL`: TTL in seconds of the entry this request stores; null = never expires; undefined = the cache's default. */
  readonly ttl: number | null | undefined;
}

/** The controls of a request that sent none. */
export const DEFAULT_CONTROLS: RequestControls = Object.freeze({
  noCache: false,
  noStore: false,
  onlyIfCached: false,
  maxAgeSeconds: undefined,
  staleIfErrorSeconds: undefined,
  ttl: undefined,
});

/** The request header that sets an entry's TTL. */
export const TTL_HEADER = 'x-tinyllm-ttl';
/** The request header that picks a namespace. */
export const NAMESPACE_HEADER = 'x-tinyllm-namespace';

/** The longest TTL X-TinyLLM-TTL accepts: ten years, in seconds. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;
/** RFC 9111 section 1.2.2: a delta-seconds value too large to represent is taken as 2^31. */
const DELTA_SECONDS_CAP = 2_147_483_648;
const WHOLE = /^\d+$/;

/** Longest namespace name accepted, in characters. */
export const MAX_NAMESPACE_LENGTH = 64;
/** A namespace name: 1-64 characters, letters, digits, '.', '_', '-', starting with a letter or digit. */
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a namespace name (from X-TinyLLM-Namespace, the /ns/ prefix or ?namespace=); throws InvalidControlError naming the source. */
export function checkNamespace(name: string, source: string): string {
  if (!NAMESPACE.test(name)) {
    const reason =
      name === ''
        ? 'a namespace cannot be empty'
        : name.length > MAX_NAMESPACE_LENGTH
          ? `at most ${MAX_NAMESPACE_LENGTH} characters`
          : "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
    throw new InvalidControlError(source, name.length > 100 ? `${name.slice(0, 100)}...` : name, reason);
  }
  return name;
}

/** A request path with its /ns/<name>/ prefix taken off. */
export interface NamespacedPath {
  /** The name in the prefix, or undefined when the path has none. */
  namespace: string | undefined;
  /** The path (with its query) to route and forward, e.g. "/api/generate". */
  path: string;
}

/**
 * Splits `/ns/<name>/rest?query` into the namespace and `/rest?query`, for clients that can only be
 * given a base URL. A path without the prefix comes back unchanged. A bad name throws InvalidControlError.
 */
export function splitNamespacePath(url: string): NamespacedPath {
  if (!url.startsWith('/ns/')) return { namespace: undefined, path: url };
  let end = 4;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  const name = checkNamespace(url.slice(4, end), 'path prefix /ns/<name>/');
  const rest = url.slice(end);
  return { namespace: name, path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest };
}

/**
 * The namespace of a request: the X-TinyLLM-Namespace header or the /ns/ path prefix (the same name
 * in both is fine; two different names are an error), or undefined when neither is given.
 */
export function resolveNamespace(header: string | undefined, fromPath: string | undefined): string | undefined {
  if (header === undefined) return fromPath;
  const name = checkNamespace(header.trim(), 'X-TinyLLM-Namespace');
  if (fromPath !== undefined && fromPath !== name) {
    throw new InvalidControlError('X-TinyLLM-Namespace', header, `the path prefix /ns/${fromPath}/ names another namespace; send one of them`);
  }
  return name;
}

/** Parses X-TinyLLM-TTL: whole seconds >= 1, or `never` (no expiry). 0 is refused as ambiguous. */
export function parseTtlHeader(value: string): number | null {
  const text = value.trim();
  if (text.toLowerCase() === 'never') return null;
  if (!WHOLE.test(text)) throw new InvalidControlError('X-TinyLLM-TTL', value, 'expected a whole number of seconds >= 1, or "never" for no expiry');
  const seconds = Number(text);
  if (seconds === 0) {
    throw new InvalidControlError(
      'X-TinyLLM-TTL',
      value,
      '0 is ambiguous: send "never" for an entry that never expires, or Cache-Control: no-store to store nothing',
    );
  }
  if (seconds > MAX_TTL_SECONDS) throw new InvalidControlError('X-TinyLLM-TTL', value, `at most ${MAX_TTL_SECONDS} seconds (ten years), or "never"`);
  return seconds;
}

type MutableControls = { -readonly [K in keyof RequestControls]: RequestControls[K] };

function deltaSeconds(directive: string, raw: string | undefined, header: string): number {
  if (raw === undefined || raw === '') throw new InvalidControlError('Cache-Control', header, `${directive} needs a number of seconds, e.g. ${directive}=60`);
  const text = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (!WHOLE.test(text))
    throw new InvalidControlError('Cache-Control', header, `${directive} takes a whole number of seconds >= 0, not ${JSON.stringify(raw)}`);
  return Math.min(Number(text), DELTA_SECONDS_CAP);
}

function setOnce<K extends keyof MutableControls>(
  out: MutableControls,
  key: K,
  value: MutableControls[K],
  directive: string,
  header: string,
  seen: Set<string>,
): void {
  if (seen.has(directive) && out[key] !== value) throw new InvalidControlError('Cache-Control', header, `${directive} is given twice with different values`);
  seen.add(directive);
  out[key] = value;
}

/**
 * Parses Cache-Control's request directives: no-cache, no-store, only-if-cached, max-age=N,
 * stale-if-error=N (names case-insensitive, N in whole seconds, optionally quoted). Directives this
 * proxy does not implement (max-stale, min-fresh, no-transform, extensions) are ignored, as RFC 9111
 * asks of a cache; a known directive with a bad value throws InvalidControlError.
 */
function parseCacheControl(header: string, out: MutableControls): void {
  const seen = new Set<string>();
  for (const part of header.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = (eq === -1 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : item.slice(eq + 1).trim();
    switch (name) {
      case 'no-cache':
      case 'no-store':
      case 'only-if-cached':
        if (value !== undefined) throw new InvalidControlError('Cache-Control', header, `${name} takes no value in a request`);
        setOnce(out, name === 'no-cache' ? 'noCache' : name === 'no-store' ? 'noStore' : 'onlyIfCached', true, name, header, seen);
        break;
      case 'max-age':
        setOnce(out, 'maxAgeSeconds', deltaSeconds(name, value, header), name, header, seen);
        break;
      case 'stale-if-error':
        setOnce(out, 'staleIfErrorSeconds', deltaSeconds(name, value, header), name, header, seen);
        break;
      default:
        break;
    }
  }
}

/**
 * The controls of one request from its Cache-Control and X-TinyLLM-TTL header values (undefined
 * when absent). Bad values throw InvalidControlError, whose message names the header and says why.
 */
export function parseControls(cacheControl: string | undefined, ttlHeader: string | undefined): RequestControls {
  if (cacheControl === undefined && ttlHeader === undefined) return DEFAULT_CONTROLS;
  const out: MutableControls = { ...DEFAULT_CONTROLS };
  if (cacheControl !== undefined) parseCacheControl(cacheControl, out);
  if (ttlHeader !== undefined) out.ttl = parseTtlHeader(ttlHeader);
  if (out.onlyIfCached && out.noCache) {
    throw new InvalidControlError(
      'Cache-Control',
      cacheControl ?? '',
      'only-if-cached and no-cache contradict each other: one forbids asking the model, the other requires it',
    );
  }
  return out;
}
