/**
 * From a POST on a cached route to the engine's call: the body parsed, the controls mapped, the
 * headers Ollama gets. A body the proxy cannot key faithfully (not JSON, no model, a number JSON
 * cannot hold, bytes that are not UTF-8) is not planned: it goes to Ollama untouched, and Ollama answers it.
 */
import { isUtf8 } from 'node:buffer';
import type { CachedEndpoint, CallControls, EndpointProfile, JsonObject } from '@tinyllm/ollama-cached/engine';
import { isObject, profileOf } from '@tinyllm/ollama-cached/engine';
import type { RequestControls } from '../controls.js';
import { upstreamRequestHeaders } from '../headers.js';
import type { CachedEndpointName } from '../routes.js';
import type { ProxyCall } from './engine-upstream.js';

/** The engine endpoint of each cached route. */
export const ENGINE_ENDPOINTS: Readonly<Record<CachedEndpointName, CachedEndpoint>> = Object.freeze({
  generate: 'generate',
  chat: 'chat',
  embed: 'embed',
  embeddings: 'embeddings',
  'openai-chat': 'v1/chat/completions',
  'openai-completions': 'v1/completions',
  'openai-embeddings': 'v1/embeddings',
});

// A number JSON.parse turned into Infinity (1e309): Ollama refuses it, and no key can tell it from null.
const HUGE_EXPONENT = /\d[eE][+]?\d{3}/;

// Iterative: a hostile body may nest 100,000 levels deep.
function hasNonFinite(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'number' && !Number.isFinite(value)) return true;
    if (typeof value === 'object' && value !== null) for (const item of Array.isArray(value) ? value : Object.values(value)) pending.push(item);
  }
  return false;
}

/** The request body as JSON, or undefined when the proxy must not key it (see the module comment). */
export function parseBody(body: Buffer): JsonObject | undefined {
  let text: string;
  let parsed: unknown;
  try {
    text = body.toString('utf8');
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || typeof parsed.model !== 'string' || parsed.model.trim() === '') return undefined;
  if (HUGE_EXPONENT.test(text) && hasNonFinite(parsed)) return undefined;
  // Bytes that are not UTF-8 decode to U+FFFD here, but not the same number of them as in Ollama's
  // decoder (Go replaces byte by byte): two prompts Ollama tells apart could share a key.
  if (text.includes('\uFFFD') && !isUtf8(body)) return undefined;
  return parsed;
}

/** The engine's controls for the request's Cache-Control and X-TinyLLM-TTL. */
export function callControls(controls: RequestControls): CallControls {
  const out: CallControls = {};
  if (controls.noCache) out.forceRefresh = true;
  if (controls.noStore) out.noStore = true;
  if (controls.onlyIfCached) out.onlyIfCached = true;
  if (controls.maxAgeSeconds !== undefined) out.maxAgeSeconds = controls.maxAgeSeconds;
  if (controls.ttl !== undefined) out.ttl = controls.ttl;
  return out;
}

/** What planCall needs of the request. */
export interface PlanInput {
  /** The route's engine endpoint. */
  readonly endpoint: CachedEndpoint;
  /** The parsed body. */
  readonly request: JsonObject;
  /** The body as received. */
  readonly body: Buffer;
  /** Path and query for Ollama. */
  readonly path: string;
  /** The client's raw headers. */
  readonly rawHeaders: readonly string[];
  /** The client's Connection header. */
  readonly connection: string | undefined;
  /** Send the client's Authorization header to Ollama. */
  readonly forwardAuthorization: boolean;
  /** The request's controls. */
  readonly controls: RequestControls;
  /** The namespace, if any. */
  readonly namespace: string | undefined;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
}

/** The engine call for a request (see ProxyCall). */
export function planCall(input: PlanInput): { call: ProxyCall; profile: EndpointProfile } {
  const profile = profileOf(input.endpoint);
  // Content-Length is set per request: the body Ollama gets may differ from the client's (see ProxyEngineUpstream.stream).
  const headers = upstreamRequestHeaders(input.rawHeaders, input.connection, input.forwardAuthorization);
  const clean: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.toLowerCase() === 'content-length') continue;
    clean.push(name, headers[i + 1] as string);
  }
  const call: ProxyCall = {
    endpoint: input.endpoint,
    request: input.request,
    model: input.request.model as string,
    stream: profile.wantsStream(input.request),
    controls: callControls(input.controls),
    signal: input.signal,
    copyChunks: false,
    body: input.body,
    path: input.path,
    headers: clean,
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
  };
  return { call, profile };
}
