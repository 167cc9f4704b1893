/**
 * From a POST on a cached route to the engine's call: the body parsed, the controls mapped, the
 * headers Ollama gets. A body the proxy cannot key faithfully (not JSON, no model, a number JSON
 * cannot hold, bytes that are not UTF-8, nesting too deep to key) is not planned: it goes to Ollama
 * untouched, and Ollama answers it. What planning
 * learns about a body is remembered for a byte-identical body (most hits repeat a request exactly),
 * so a hit skips parsing and key derivation.
 */
import { isUtf8 } from 'node:buffer';
import type { CachedEndpoint, CallControls, EndpointProfile, JsonObject } from '@tinyllm/ollama-cached/engine';
import { isObject, profileOf } from '@tinyllm/ollama-cached/engine';
import { MAX_TTL_SECONDS, type RequestControls } from '../controls.js';
import { upstreamRequestHeaders } from '../headers.js';
import type { CachedEndpointName } from '../routes.js';
import type { ProxyCall } from './engine-upstream.js';
import { excludedFieldsValid } from './wire-checks.js';

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

/** What planning found out about one request body: whether it can be cached, and how. */
export interface BodyPlan {
  /** The parsed body, when the proxy caches this request; undefined: it goes to Ollama untouched (also once its key could not be derived). */
  request: JsonObject | undefined;
  /** The request asks for a stream. */
  readonly stream: boolean;
  /** Its key, once the engine derived it (per namespace: PlanMemo tells namespaces apart). */
  key: string | undefined;
}

/** Plans a body (parse, checks): the slow part, done once per distinct body. */
export function planBody(endpoint: CachedEndpoint, body: Buffer): BodyPlan {
  const profile = profileOf(endpoint);
  const request = parseBody(body);
  if (request === undefined || profile.isLoadRequest(request) || !excludedFieldsValid(request, endpoint.startsWith('v1/'))) {
    return { request: undefined, stream: false, key: undefined };
  }
  return { request, stream: profile.wantsStream(request), key: undefined };
}

/** The engine's controls for the request's Cache-Control and X-TinyLLM-TTL. */
export function callControls(controls: RequestControls): CallControls {
  const out: CallControls = {};
  if (controls.noCache) out.forceRefresh = true;
  if (controls.noStore) out.noStore = true;
  if (controls.onlyIfCached) out.onlyIfCached = true;
  if (controls.maxAgeSeconds !== undefined) out.maxAgeSeconds = controls.maxAgeSeconds;
  if (controls.ttl !== undefined) out.ttl = controls.ttl;
  // stale-if-error=N: RFC 9111 caps huge delta-seconds at 2^31; the cache keeps at most ten years.
  if (controls.staleIfErrorSeconds !== undefined) out.staleIfErrorTtl = Math.min(controls.staleIfErrorSeconds, MAX_TTL_SECONDS);
  return out;
}

const NO_CONTROLS: CallControls = Object.freeze({});

/** What planCall needs of the request. */
export interface PlanInput {
  /** The route's engine endpoint. */
  readonly endpoint: CachedEndpoint;
  /** The body's plan (its request must be defined). */
  readonly plan: BodyPlan & { request: JsonObject };
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
  /** Whether the request sent any control (else the shared empty controls). */
  readonly hasControls: boolean;
  /** The namespace, if any. */
  readonly namespace: string | undefined;
  /** Its signal aborts when the client goes away (read only when the engine waits). */
  readonly gone: { readonly signal: AbortSignal };
}

// Content-Length is set per request: the body Ollama gets may differ from the client's (see ProxyEngineUpstream.stream).
function headersFor(rawHeaders: readonly string[], connection: string | undefined, forwardAuthorization: boolean): string[] {
  const headers = upstreamRequestHeaders(rawHeaders, connection, forwardAuthorization);
  const clean: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.toLowerCase() === 'content-length') continue;
    clean.push(name, headers[i + 1] as string);
  }
  return clean;
}

// One class, so every call has one shape (an object literal with a getter and optional spreads
// cost about 2 us a hit on this path).
class PlannedCall implements ProxyCall {
  readonly endpoint: CachedEndpoint;
  readonly request: JsonObject;
  readonly model: string;
  readonly stream: boolean;
  readonly controls: CallControls;
  readonly copyChunks = false;
  readonly shared = true;
  readonly body: Buffer;
  readonly path: string;
  readonly namespace: string | undefined;
  readonly key: string | undefined;
  readonly #input: PlanInput;

  constructor(input: PlanInput) {
    const request = input.plan.request;
    this.endpoint = input.endpoint;
    this.request = request;
    this.model = request.model as string;
    this.stream = input.plan.stream;
    this.controls = input.hasControls ? callControls(input.controls) : NO_CONTROLS;
    this.body = input.body;
    this.path = input.path;
    this.namespace = input.namespace;
    this.key = input.plan.key;
    this.#input = input;
  }

  /** Read only when the engine waits: a hit answered at once never makes the AbortController behind it. */
  get signal(): AbortSignal {
    return this.#input.gone.signal;
  }

  upstreamHeaders(): readonly string[] {
    const { rawHeaders, connection, forwardAuthorization } = this.#input;
    return headersFor(rawHeaders, connection, forwardAuthorization);
  }
}

/** The engine call for a request (see ProxyCall). */
export function planCall(input: PlanInput): { call: ProxyCall; profile: EndpointProfile } {
  return { call: new PlannedCall(input), profile: profileOf(input.endpoint) };
}
