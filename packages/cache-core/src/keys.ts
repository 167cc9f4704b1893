import { assertKeyDepth, writeCanonical } from './canonical-json.js';
import { InvalidOptionError, InvalidRequestError } from './errors.js';
import { sha256Hex } from './hash.js';

/**
 * Version of the key rules. Bump it whenever a change below would map a request to a different
 * key: old entries then simply stop being found instead of being served for the wrong request.
 */
export const KEY_SCHEMA_VERSION = 2;

/**
 * The endpoints whose answers are cached: Ollama's /api/generate, /api/chat, /api/embed and the
 * legacy /api/embeddings, and its OpenAI-compatible /v1 ones, each in a key space of its own
 * (their answers have different shapes).
 */
export type CacheEndpoint = 'generate' | 'chat' | 'embed' | 'embeddings' | 'v1/chat/completions' | 'v1/completions' | 'v1/embeddings';

/** An image as Ollama clients take it: base64 text or raw bytes. */
export type ImageInput = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** The simple request form; it maps onto the Ollama shape (max_tokens is num_predict, json_mode is format "json"). */
export interface SimpleRequest {
  /** Model name, with or without a tag. */
  model: string;
  /** The prompt text. */
  prompt: string;
  /** Sampling temperature (options.temperature). */
  temperature?: number;
  /** Maximum tokens to generate (options.num_predict). */
  max_tokens?: number;
  /** System prompt. */
  system?: string;
  /** Ask for JSON output (format "json"). */
  json_mode?: boolean;
}

/** Any request the key rules accept: an Ollama generate/chat/embed body or the simple form. */
export interface CacheKeyRequest {
  /** Model name, with or without a tag. */
  model: string;
  /** Every other request field. */
  [field: string]: unknown;
}

/** Options of generateCacheKey. */
export interface CacheKeyOptions {
  /** The endpoint; the legacy `embeddings` must be named. @default inferred: messages → chat, input → embed, otherwise generate */
  endpoint?: CacheEndpoint;
  /** A tenant or app; written in front of the hash, so one namespace never reads another's entries. @default none */
  namespace?: string;
  /**
   * The request is exactly what the model receives (as a proxy forwards it): simple-form fields at
   * the top level (temperature, max_tokens...) stay where they are instead of moving into
   * `options`, since Ollama ignores them there. @default false
   */
  exact?: boolean;
  /**
   * The digest of the model's weights as Ollama reports it (`/api/tags`), for answers bound to them:
   * the same request on a re-pulled or re-created model gets another key. @default none (the key
   * does not depend on the weights)
   */
  modelDigest?: string;
}

/** The cache's own per-call controls: they travel in the request but never reach Ollama. */
export const CACHE_CONTROL_FIELDS: ReadonlySet<string> = new Set(['forceRefresh', 'cacheTtl', 'noStore']);

/** Request fields that cannot change the answer's text (framing, residency) or are the cache's own per-call controls. */
export const EXCLUDED_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'stream',
  'keep_alive',
  // OpenAI-compatible requests: whether usage is streamed, and the end user's id, never change the text.
  'stream_options',
  'user',
  ...CACHE_CONTROL_FIELDS,
]);

/** Runtime options that change speed or placement, never the text. */
export const EXCLUDED_OPTION_FIELDS: ReadonlySet<string> = new Set(['num_thread', 'num_gpu', 'main_gpu', 'use_mmap', 'use_mlock', 'numa', 'low_vram']);

/**
 * Ollama options that the simple request form may put at the top level; they move into `options`.
 * Ollama itself ignores top-level options, so the client sends them moved too (see toOllamaRequest).
 */
const TOP_LEVEL_OPTION_FIELDS: ReadonlySet<string> = new Set([
  'temperature',
  'top_k',
  'top_p',
  'min_p',
  'typical_p',
  'seed',
  'num_predict',
  'stop',
  'num_ctx',
  'repeat_last_n',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
  'num_keep',
]);

// Ollama's defaults for a name's host and namespace (types/model/name.go).
const DEFAULT_REGISTRY = 'registry.ollama.ai';
const DEFAULT_NAMESPACE = 'library';

/**
 * Normalises a model name the way Ollama resolves it, so spellings of one model share a key: trimmed,
 * lower-cased (Ollama matches names case-insensitively), the implicit `:latest` tag made explicit,
 * and the default registry and namespace dropped (`library/llama3` and
 * `registry.ollama.ai/library/llama3:latest` are `llama3:latest`). Names are `[host/][namespace/]model[:tag]`;
 * a digest (`model@sha256:...`) is kept as written.
 */
export function normalizeModelName(model: string): string {
  let name = model.trim().toLowerCase();
  if (name.includes('@')) return name;
  // Ollama drops a scheme in front of the host (http://host/ns/model).
  const scheme = name.indexOf('://');
  if (scheme >= 0) name = name.slice(scheme + 3);
  const slash = name.lastIndexOf('/');
  if (name.lastIndexOf(':') <= slash) name = `${name}:latest`;
  if (slash < 0) return name;
  const parts = name.split('/');
  if (parts.length === 2 && parts[0] === DEFAULT_NAMESPACE) return parts[1] as string;
  if (parts.length === 3 && parts[0] === DEFAULT_REGISTRY && parts[1] === DEFAULT_NAMESPACE) return parts[2] as string;
  return name;
}

// Go decodes `images` with strict standard base64 (line breaks aside): exactly what it accepts.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Identifies an image by the sha256 of its bytes, so base64 text and raw bytes of one image are one
 * key. Text that is not strict base64 (a data: URI, stray characters) is not decoded leniently:
 * Ollama rejects it, so it is keyed by the text itself and never shares a key with a valid image.
 */
export function imageFingerprint(image: ImageInput): string {
  if (typeof image === 'string') {
    const compact = image.includes('\n') || image.includes('\r') ? image.replace(/[\r\n]/g, '') : image;
    return STRICT_BASE64.test(compact) ? `sha256:${sha256Hex(Buffer.from(compact, 'base64'))}` : `text-sha256:${sha256Hex(image)}`;
  }
  if (image instanceof ArrayBuffer) return `sha256:${sha256Hex(new Uint8Array(image))}`;
  if (ArrayBuffer.isView(image)) return `sha256:${sha256Hex(new Uint8Array(image.buffer, image.byteOffset, image.byteLength))}`;
  throw new InvalidRequestError('images', `expected base64 strings or bytes, got ${Object.prototype.toString.call(image)}`);
}

function fingerprintImages(images: unknown): unknown {
  return Array.isArray(images) ? images.map((image) => imageFingerprint(image as ImageInput)) : images;
}

/**
 * Canonical JSON of chat messages. Ollama decodes each message into a struct, so a `null` field of
 * a message is the field left out (dropped here, like undefined); nested values (tool call
 * arguments, for example) are data and keep their nulls. Images are keyed by fingerprint.
 */
function writeMessages(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return writeCanonical(messages);
  let out = '[';
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) out += ',';
    const message = messages[i] as unknown;
    out += isPlainRecord(message) ? writeMessage(message) : (writeCanonical(message) ?? 'null');
  }
  return `${out}]`;
}

function writeMessage(message: Record<string, unknown>): string {
  const names = Object.keys(message).sort();
  let out = '{';
  let first = true;
  for (const name of names) {
    const value = message[name];
    if (value === null) continue;
    const written = name === 'images' ? writeCanonical(fingerprintImages(value)) : writeCanonical(value);
    if (written === undefined) continue;
    out += `${first ? '' : ','}${quote(name)}:${written}`;
    first = false;
  }
  return `${out}}`;
}

const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';

/**
 * Turns a simple-form (or mixed) request into the Ollama shape: top-level sampling fields move into
 * `options` (an explicit `options` value wins), max_tokens becomes num_predict and json_mode
 * becomes format "json". The cache's own per-call controls are dropped, and so are the fields in
 * `omit` (e.g. `stream`, which a caller sets per call). Returns a new object.
 */
export function toOllamaRequest<R extends CacheKeyRequest>(request: R, omit?: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lifted: Record<string, unknown> = {};
  let anyLifted = false;
  for (const field in request) {
    const value = request[field];
    if (value === undefined || CACHE_CONTROL_FIELDS.has(field) || omit?.has(field)) continue;
    if (field === 'json_mode') {
      if (value === true && request.format === undefined) out.format = 'json';
    } else if (field === 'max_tokens' || TOP_LEVEL_OPTION_FIELDS.has(field)) {
      lifted[field === 'max_tokens' ? 'num_predict' : field] = value;
      anyLifted = true;
    } else out[field] = value;
  }
  if (anyLifted) out.options = { ...lifted, ...(request.options as Record<string, unknown> | undefined) };
  return out;
}

function inferEndpoint(request: CacheKeyRequest): CacheEndpoint {
  if (request.messages !== undefined) return 'chat';
  if (request.input !== undefined) return 'embed';
  return 'generate';
}

function assertRequest(request: CacheKeyRequest): void {
  if (request === null || typeof request !== 'object') throw new InvalidRequestError('request', 'expected an object');
  if (typeof request.model !== 'string' || request.model.trim() === '') {
    throw new InvalidRequestError('model', `expected a non-empty string, got ${JSON.stringify(request.model) ?? 'undefined'}`);
  }
}

// Field names and models are few and written on every lookup: remember their JSON text (a Map
// lookup is several times cheaper than JSON.stringify of a short string). Bounded, in case a
// caller sends ever-new names.
const quotedNames = new Map<string, string>();
const quotedModels = new Map<string, string>();
function remember(cache: Map<string, string>, name: string, make: (name: string) => string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = make(name);
    if (cache.size >= 1024) cache.clear();
    cache.set(name, text);
  }
  return text;
}
const quote = (name: string): string => remember(quotedNames, name, JSON.stringify);
const quotedModel = (model: string): string => remember(quotedModels, model, (name) => JSON.stringify(normalizeModelName(name)));

function writeOptions(options: unknown): string | undefined {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return writeCanonical(options);
  const record = options as Record<string, unknown>;
  const names = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const name of names) {
    const value = record[name];
    // Ollama skips a null option (the option left out); runtime options never change the text.
    if (value === null || EXCLUDED_OPTION_FIELDS.has(name)) continue;
    const written = writeCanonical(value);
    if (written === undefined) continue;
    out += `${first ? '' : ','}${quote(name)}:${written}`;
    first = false;
  }
  // No option that changes the text: the same request as one without options.
  return first ? undefined : `${out}}`;
}

/**
 * Canonical JSON of a request in the Ollama shape, normalised on the way: excluded and null fields
 * dropped (at the top level, in options and in messages), the model normalised, runtime options
 * dropped, images replaced by their fingerprints. One pass,
 * no intermediate copies: this runs on every lookup. Returns undefined when the request still has
 * simple-form fields (temperature at the top level, max_tokens, json_mode) to lift first.
 */
function writeRequest(request: CacheKeyRequest, prefix: string, exact = false): string | undefined {
  const fields = Object.keys(request).sort();
  // The prefix starts the same string, so hashing flattens one rope instead of copying a second one.
  let out = `${prefix}{`;
  let first = true;
  for (const field of fields) {
    const value = request[field];
    // Ollama decodes the body into a struct: a null field is the field left out.
    if (value === undefined || value === null || EXCLUDED_REQUEST_FIELDS.has(field)) continue;
    let written: string | undefined;
    switch (field) {
      case 'model':
        written = quotedModel(value as string);
        break;
      case 'options':
        written = writeOptions(value);
        break;
      case 'images':
        written = writeCanonical(fingerprintImages(value));
        break;
      case 'format':
      case 'response_format':
        // A JSON schema becomes a grammar in its own property order (so does the answer): keep it.
        assertKeyDepth(value);
        written = JSON.stringify(value);
        break;
      case 'messages':
        written = writeMessages(value);
        break;
      case 'max_tokens':
      case 'json_mode':
        if (!exact) return undefined;
        written = writeCanonical(value);
        break;
      default:
        if (!exact && TOP_LEVEL_OPTION_FIELDS.has(field)) return undefined;
        written = writeCanonical(value);
    }
    if (written === undefined) continue;
    out += `${first ? '' : ','}${quote(field)}:${written}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Exactly the text that is hashed into a key: the key-schema version, the endpoint, then the
 * canonical JSON of the normalised request (sorted keys at every depth, no whitespace, undefined
 * dropped, null fields dropped where Ollama reads null as absent, -0 as 0). The version and endpoint sit outside the JSON, so no request field can
 * collide with them.
 */
export function cacheKeyMaterial(request: CacheKeyRequest, options: CacheKeyOptions = {}): string {
  assertRequest(request);
  const endpoint = options.endpoint ?? inferEndpoint(request);
  const digest = options.modelDigest;
  if (digest !== undefined && (typeof digest !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(digest))) {
    throw new InvalidOptionError('modelDigest', digest, 'a model digest as Ollama reports it (1-200 printable characters, no spaces)');
  }
  // A digest goes between the endpoint and the request, so keys without one are unchanged.
  const head = digest === undefined ? `tinyllm-key/v${KEY_SCHEMA_VERSION} ${endpoint} ` : `tinyllm-key/v${KEY_SCHEMA_VERSION} ${endpoint} digest=${digest} `;
  return normalisedJson(request, head, options.exact === true);
}

/**
 * The normalised request that is hashed into the key (see cacheKeyMaterial): the Ollama shape,
 * the model normalised, excluded fields dropped, images as fingerprints. For tests and for
 * explaining why two requests do or do not share a key.
 */
export function canonicalRequest(request: CacheKeyRequest): Record<string, unknown> {
  assertRequest(request);
  return JSON.parse(normalisedJson(request, '')) as Record<string, unknown>;
}

// The common Ollama shape is written in one pass; a simple-form request is lifted first.
function normalisedJson(request: CacheKeyRequest, prefix: string, exact = false): string {
  if (exact) return writeRequest(request, prefix, true) as string;
  return writeRequest(request, prefix) ?? (writeRequest(toOllamaRequest(request) as CacheKeyRequest, prefix) as string);
}

/** Checks a namespace value: a non-empty string. */
export function assertNamespace(namespace: unknown, option = 'namespace'): asserts namespace is string | undefined {
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    throw new InvalidOptionError(option, namespace, 'a non-empty string');
  }
}

/**
 * The cache key of a request: `[namespace:]` + sha256 of cacheKeyMaterial (the key-schema version,
 * the endpoint and the canonical JSON of the normalised request). Key order, stream, keep_alive,
 * performance options and null fields never change it; every field that can change the answer does.
 */
export function generateCacheKey(request: CacheKeyRequest, options: CacheKeyOptions = {}): string {
  const hash = sha256Hex(cacheKeyMaterial(request, options));
  if (options.namespace === undefined) return hash;
  assertNamespace(options.namespace);
  return `${options.namespace}:${hash}`;
}
