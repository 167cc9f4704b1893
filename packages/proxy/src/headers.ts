/**
 * Header rules of the pass-through: what goes to Ollama and what comes back. Hop-by-hop headers
 * (RFC 9110 section 7.6.1) belong to one connection and are never forwarded; the rest is copied
 * as sent, in order, duplicates included.
 */
import type { IncomingHttpHeaders } from 'node:http';

// Never forwarded to Ollama: hop-by-hop headers; Host (Ollama gets its own address, or it answers
// 403 to a name it does not know: H1 of the fidelity audit); Origin (the proxy answers CORS itself:
// a foreign Origin would get 403 from Ollama); Expect (the proxy answers 100-continue itself, and
// the upstream client does not support it).
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'origin',
  'expect',
]);

/** The prefix of the proxy's own request headers (X-TinyLLM-TTL, X-TinyLLM-Namespace...): they stop at the proxy. */
const OWN_PREFIX = 'x-tinyllm-';

/** Extra header names a Connection header lists (also hop-by-hop), lower-cased; undefined when it lists none of note. */
function connectionTokens(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  let tokens: Set<string> | undefined;
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    if (tokens === undefined) tokens = new Set();
    tokens.add(name);
  }
  return tokens;
}

/**
 * The headers to send Ollama, as a flat [name, value, name, value...] list built from the
 * request's raw headers: original case and order, less hop-by-hop headers, Host, Origin, Expect and
 * the proxy's own X-TinyLLM-* headers; Authorization too unless `forwardAuthorization` (with API
 * keys, it carries the client's key to the proxy, not a credential for Ollama). Content-Length is
 * kept: the body is forwarded byte for byte.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], connection: string | undefined, forwardAuthorization = true): string[] {
  const extra = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || lower.startsWith(OWN_PREFIX) || extra?.has(lower) || (!forwardAuthorization && lower === 'authorization')) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

// Never copied from Ollama's answer: hop-by-hop headers. The proxy's own connection to the client
// has its own framing (Node re-frames the body: Content-Length when Ollama sent one, chunked otherwise).
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Removes the hop-by-hop headers from Ollama's response headers, in place, and returns them. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connection = headers.connection;
  const extra = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
  for (const name of NOT_RETURNED) if (name in headers) delete headers[name];
  if (extra) for (const name of extra) delete headers[name];
  return headers;
}
