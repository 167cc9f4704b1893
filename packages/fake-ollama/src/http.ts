import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay, setImmediate as yieldTurn } from 'node:timers/promises';

/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** An error answered with a status and an Ollama-style `{"error": message}` body. */
export class HttpError extends Error {
  /** Creates an error for `status`. */
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reads the whole request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of req) {
    const buf = part as Buffer;
    total += buf.length;
    if (total > MAX_BODY_BYTES) throw new HttpError(413, 'http: request body too large');
    parts.push(buf);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Parses a request body like Go's json.Decoder into a struct: errors become 400s with Go-style messages. */
export function parseJsonObject(text: string, typeName: string): Record<string, unknown> {
  if (text.trim() === '') throw new HttpError(400, 'missing request body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, goJsonError(text, err));
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw new HttpError(400, `json: cannot unmarshal ${kind} into Go value of type api.${typeName}`);
  }
  return value as Record<string, unknown>;
}

function goJsonError(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/end of (JSON )?input|Unterminated/i.test(message)) return 'unexpected EOF';
  const token = /Unexpected token '?(.)/.exec(message)?.[1];
  const pos = /position (\d+)/.exec(message);
  const ch = token ?? text.charAt(Math.max(0, pos ? Number(pos[1]) : text.search(/\S/)));
  return ch ? `invalid character '${ch}' looking for beginning of value` : 'unexpected EOF';
}

/** Checks a field's JSON type, throwing Go's unmarshal error when it is wrong. */
export function expectType(body: Record<string, unknown>, field: string, want: 'string' | 'array' | 'object' | 'bool', typeName: string): void {
  const v = body[field];
  if (v === undefined || v === null) return;
  const got = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
  if (got !== want) {
    const goType = want === 'array' ? '[]' : want === 'object' ? 'map[string]interface {}' : want;
    throw new HttpError(400, `json: cannot unmarshal ${got} into Go struct field ${typeName}.${field} of type ${goType}`);
  }
}

/**
 * Go's net/http buffers this many bytes before it commits the headers: a body that fits gets a
 * Content-Length, a larger one goes out chunked (bufferBeforeChunkingSize in net/http/server.go).
 */
export const GO_CHUNKING_THRESHOLD = 2048;

/** Writes a whole body the way Go frames it: Content-Length up to 2,048 bytes, chunked above. */
export function sendBody(res: ServerResponse, status: number, contentType: string | undefined, text: string, head = false): void {
  if (res.headersSent || res.destroyed) return;
  const length = Buffer.byteLength(text);
  const headers: Record<string, string | number> = {};
  if (contentType) headers['Content-Type'] = contentType;
  if (length <= GO_CHUNKING_THRESHOLD || head) headers['Content-Length'] = length;
  res.writeHead(status, headers);
  res.end(head ? undefined : text);
}

// What Go's encoding/json escapes in strings by default (HTML-safe output), and how.
const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const HAS_GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * JSON text as Ollama writes it: Go's json.Marshal and json.Encoder (gin's c.JSON, streamResponse,
 * the /v1 layer) escape <, > and & (and U+2028, U+2029) inside strings as \u003c, \u003e, \u0026.
 * (The proxy has the same rule in @tinyllm/ollama-cached; the fake depends on none of the packages it tests.)
 */
export function goJson(value: unknown): string {
  const json = JSON.stringify(value);
  return HAS_GO_ESCAPED.test(json) ? json.replace(GO_ESCAPED, (char) => GO_ESCAPES[char] as string) : json;
}

/** Sends a JSON body with gin's content type (c.JSON). */
export function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  sendBody(res, status, 'application/json; charset=utf-8', goJson(body), head);
}

/** Sends a status with no body and no Content-Type (gin's AbortWithStatus, c.Status). */
export function sendEmpty(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Length': 0, ...extra });
  res.end();
}

/** Sends an Ollama-style error: `{"error": message}`. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

/** Sends plain text (HEAD requests get headers only); `contentType` defaults to gin's c.String type. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  head = false,
  extra: Record<string, string> = {},
  contentType = 'text/plain; charset=utf-8',
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(head ? undefined : text);
}

/** Writes one chunk, waiting for 'drain' under backpressure; resolves false if the response is gone. */
export async function writeChunk(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(text)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/**
 * Waits at least `ms` milliseconds (or one event-loop turn when ms <= 0); resolves false if aborted.
 * Node's timers may fire up to a millisecond early against performance.now(), so it sleeps again
 * until the deadline has really passed: the durations the fake reports are never below what it was
 * asked to simulate.
 */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    if (ms <= 0) {
      await yieldTurn(undefined, { signal });
      return !signal.aborted;
    }
    const deadline = performance.now() + ms;
    for (let left = ms; left > 0; left = deadline - performance.now()) await delay(Math.ceil(left), undefined, { signal });
    return !signal.aborted;
  } catch {
    return false;
  }
}

/** Current time as Go's RFC3339Nano in UTC: up to 9 fractional digits, trailing zeros trimmed. */
export function rfc3339Nano(): string {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  const nanos = Math.min(999_999, Math.floor((ms - whole) * 1e6));
  const frac = `${new Date(whole).toISOString().slice(20, 23)}${String(nanos).padStart(6, '0')}`.replace(/0+$/, '');
  return `${new Date(whole).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/** Monotonic clock in nanoseconds. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}
