import { HttpError } from '../http.js';
import type { Capability, ModelInfo } from '../models.js';
import { fullName, parseModelName } from '../names.js';
import type { ModelCall } from './context.js';

/** Which model route is being served; decides the wording of errors. */
export type ModelRoute = 'generate' | 'chat' | 'embed' | 'embeddings';

const GO_TYPES: Record<ModelRoute, string> = { generate: 'GenerateRequest', chat: 'ChatRequest', embed: 'EmbedRequest', embeddings: 'EmbeddingRequest' };

/** The Go struct name of a route's request, for decode errors. */
export function goTypeName(route: ModelRoute): string {
  return GO_TYPES[route];
}

function jsonKind(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : v === null ? 'null' : typeof v;
}

/**
 * Resolves the request's model like Ollama's handlers: a missing model is 404 `model '' not found`
 * on generate and embed and 400 `model is required` on chat and the legacy embeddings route
 * (routes.go:261-265, 808-812, 2457-2461, 1053-1057); a malformed name is 400 `invalid model name`.
 * Unknown models are 404 with each route's wording.
 */
export function requireModel(call: ModelCall, route: ModelRoute): { name: string; info: ModelInfo } {
  const name = requireModelName(call, route);
  return { name, info: findModel(call, name, route) };
}

/** The request's model name, checked for presence and form (not yet looked up). */
export function requireModelName(call: ModelCall, route: ModelRoute): string {
  const raw = call.body.model;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw new HttpError(400, `json: cannot unmarshal ${jsonKind(raw)} into Go struct field ${GO_TYPES[route]}.model of type string`);
  }
  const name = typeof raw === 'string' ? raw : '';
  if (name.trim() === '') {
    throw route === 'generate' || route === 'embed' ? new HttpError(404, `model '${name}' not found`) : new HttpError(400, 'model is required');
  }
  if (!parseModelName(name)) throw new HttpError(400, 'invalid model name');
  return name;
}

/** Looks a valid model name up, throwing the route's 404. */
export function findModel(call: ModelCall, name: string, route: ModelRoute): ModelInfo {
  const info = call.settings.catalog.find(name);
  if (info) return info;
  throw new HttpError(404, route === 'embed' || route === 'embeddings' ? `model "${name}" not found, try pulling it first` : `model '${name}' not found`);
}

/** Ollama's error for a model lacking a capability other than completion: `<full name> does not support <cap>` (images.go:543-580, routes.go:211-213). */
export function requireCapabilities(info: ModelInfo, wanted: Capability[]): void {
  const missing = wanted.filter((c) => !info.capabilities.includes(c));
  if (missing.length === 0) return;
  const parsed = parseModelName(info.name);
  const full = parsed ? fullName(parsed) : info.name;
  throw new HttpError(400, `${full} does not support ${missing.join('\n')}`);
}

/** True when keep_alive asks to unload the model (0, "0", "0s", ...). */
export function isUnload(keepAlive: unknown): boolean {
  if (typeof keepAlive === 'number') return keepAlive === 0;
  if (typeof keepAlive === 'string') return goDurationSeconds(keepAlive) === 0;
  return false;
}

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Parses a Go duration string (time.ParseDuration) into seconds, throwing Go's error text. */
export function goDurationSeconds(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(\.(\d*))?/.exec(s);
    const digits = `${num?.[1] ?? ''}${num?.[3] ?? ''}`;
    if (!num || digits === '') throw new Error(`time: invalid duration ${quoted}`);
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    total += Number(num[0]) * scale;
    s = s.slice(unit.length);
  }
  return sign * total;
}

/** keep_alive decoding (api.Duration.UnmarshalJSON, types.go:1243-1270): a number of seconds or a Go duration string. */
export function checkKeepAlive(value: unknown): void {
  if (value === undefined || value === null || typeof value === 'number') return;
  if (typeof value === 'string') {
    try {
      goDurationSeconds(value);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    return;
  }
  const goType = Array.isArray(value) ? '[]interface {}' : typeof value === 'boolean' ? 'bool' : 'map[string]interface {}';
  throw new HttpError(400, `Unsupported type: '${goType}'`);
}

/** `think` decoding (ThinkValue.UnmarshalJSON, types.go:1202-1220): a bool or "high", "medium", "low", "max". */
export function checkThink(value: unknown): void {
  if (value === undefined || value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (['high', 'medium', 'low', 'max'].includes(value)) return;
    throw new HttpError(400, `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", "max", true, or false)`);
  }
  throw new HttpError(400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)');
}

/** True when a (valid) think value turns thinking on (ThinkValue.Bool). */
export function thinkOn(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value !== '');
}

const INT_OPTIONS = [
  'num_keep',
  'seed',
  'num_predict',
  'top_k',
  'repeat_last_n',
  'num_ctx',
  'num_batch',
  'num_gpu',
  'num_thread',
  'draft_num_predict',
  'main_gpu',
];
const FLOAT_OPTIONS = ['top_p', 'min_p', 'typical_p', 'temperature', 'repeat_penalty', 'presence_penalty', 'frequency_penalty'];

/** Options.FromMap (types.go:991-1090): a wrongly typed known option is an error (answered 500); unknown keys are ignored. */
export function optionsError(options: unknown): string | undefined {
  if (options === undefined || options === null || typeof options !== 'object' || Array.isArray(options)) return undefined;
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (INT_OPTIONS.includes(key) && typeof value !== 'number') return `option "${key}" must be of type integer`;
    if (FLOAT_OPTIONS.includes(key) && typeof value !== 'number') return `option "${key}" must be of type float32`;
    if (key === 'use_mmap' && typeof value !== 'boolean') return `option "${key}" must be of type boolean`;
    if (key === 'stop') {
      if (!Array.isArray(value)) return `option "${key}" must be of type array`;
      if (value.some((v) => typeof v !== 'string')) return `option "${key}" must be of an array of strings`;
    }
  }
  return undefined;
}

/** The runner's check of `format` (llama_server.go:1583-1597): "json", a schema object, or nothing. */
export function formatError(format: unknown): string | undefined {
  if (format === undefined || format === null || format === '' || format === 'json') return undefined;
  if (typeof format === 'object' && !Array.isArray(format)) return undefined;
  return `invalid format: ${JSON.stringify(JSON.stringify(format))}; expected "json" or a valid JSON Schema object`;
}

const B64 = /[A-Za-z0-9+/]/;

/** Go's base64.StdEncoding decoding of a []byte field; returns the offset of the first bad byte, or -1. */
export function base64ErrorOffset(text: string): number {
  let j = 0;
  let quantumStart = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n' || c === '\r') continue;
    if (padding > 0) {
      if (c === '=' && j === 3 && padding === 1) {
        padding = 2;
        j = 0;
        continue;
      }
      return i;
    }
    if (j === 0) quantumStart = i;
    if (c === '=') {
      if (j < 2) return i;
      padding = 1;
      if (j === 3) j = 0;
      else j = 3;
      continue;
    }
    if (!B64.test(c)) return i;
    j = (j + 1) % 4;
  }
  if (padding === 1 && j === 3) return text.length;
  return j === 0 ? -1 : quantumStart;
}

/** Validates base64 image strings of a request like encoding/json decoding into []byte. */
export function checkImages(images: unknown, field: string): number {
  if (images === undefined || images === null) return 0;
  if (!Array.isArray(images)) throw new HttpError(400, `json: cannot unmarshal ${jsonKind(images)} into Go struct field ${field} of type []api.ImageData`);
  for (const img of images) {
    if (typeof img !== 'string') throw new HttpError(400, `json: cannot unmarshal ${jsonKind(img)} into Go struct field ${field} of type api.ImageData`);
    const at = base64ErrorOffset(img);
    if (at >= 0) throw new HttpError(400, `illegal base64 data at input byte ${at}`);
  }
  return images.length;
}

/** top_logprobs must be an integer within 0..20 (routes.go:256-258). */
export function checkTopLogprobs(body: Record<string, unknown>, route: ModelRoute): void {
  const v = body.top_logprobs;
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    const shown = typeof v === 'number' ? `number ${v}` : jsonKind(v);
    throw new HttpError(400, `json: cannot unmarshal ${shown} into Go struct field ${GO_TYPES[route]}.top_logprobs of type int`);
  }
  if (v < 0 || v > 20) throw new HttpError(400, 'top_logprobs must be between 0 and 20');
}

/** The error llama-server gives when images reach a model without a vision projector (inferred, not observed). */
export const NO_VISION_ERROR = 'image input is not supported - hint: if this is unexpected, you may need to provide the mmproj';
