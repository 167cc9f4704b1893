import { TinyLLMError } from '@tinyllm/cache-core';

/** The codes of the errors this package throws (cache-core's are its own). */
export type OllamaCachedErrorCode = 'TINYLLM_OLLAMA_HTTP' | 'TINYLLM_OLLAMA_UNREACHABLE' | 'TINYLLM_OLLAMA_TIMEOUT' | 'TINYLLM_OLLAMA_STREAM';

function hasCode(error: unknown, code: OllamaCachedErrorCode): boolean {
  return TinyLLMError.isInstance(error) && error.code === code;
}

/** Removes user:password@ from a host URL, so credentials never reach a message or a log. */
export function redactHost(host: string): string {
  return host.replace(/\/\/[^/@]*@/, '//');
}

/** Ollama answered with a non-2xx status; `message` is Ollama's own error text. */
export class OllamaHttpError extends TinyLLMError<'TINYLLM_OLLAMA_HTTP'> {
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** Same as status, under the name ollama-js's ResponseError uses. */
  readonly status_code: number;
  /** Ollama's error text (the JSON `error` field, else the body, else "Error <status>: <statusText>"). */
  readonly error: string;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('TINYLLM_OLLAMA_HTTP', message, options);
    this.status = status;
    this.status_code = status;
    this.error = message;
  }
  /** True for an OllamaHttpError from any copy of this package. */
  static override isInstance(error: unknown): error is OllamaHttpError {
    return hasCode(error, 'TINYLLM_OLLAMA_HTTP');
  }
}

/** No connection to Ollama could be made (refused, reset, DNS...) after the retries. */
export class OllamaUnreachableError extends TinyLLMError<'TINYLLM_OLLAMA_UNREACHABLE'> {
  /** The Ollama base URL that was tried (credentials removed). */
  readonly host: string;
  constructor(host: string, options?: { cause?: unknown }) {
    const shown = redactHost(host);
    super('TINYLLM_OLLAMA_UNREACHABLE', `cannot reach Ollama at ${shown}: is \`ollama serve\` running?`, options);
    this.host = shown;
  }
  /** True for an OllamaUnreachableError from any copy of this package. */
  static override isInstance(error: unknown): error is OllamaUnreachableError {
    return hasCode(error, 'TINYLLM_OLLAMA_UNREACHABLE');
  }
}

/** Ollama did not answer within timeoutMs (for streams: did not send the response headers in time). */
export class OllamaTimeoutError extends TinyLLMError<'TINYLLM_OLLAMA_TIMEOUT'> {
  /** The deadline that elapsed, in ms. */
  readonly timeoutMs: number;
  /** The Ollama base URL (credentials removed). */
  readonly host: string;
  constructor(timeoutMs: number, host: string) {
    const shown = redactHost(host);
    super('TINYLLM_OLLAMA_TIMEOUT', `Ollama at ${shown} did not answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
    this.host = shown;
  }
  /** True for an OllamaTimeoutError from any copy of this package. */
  static override isInstance(error: unknown): error is OllamaTimeoutError {
    return hasCode(error, 'TINYLLM_OLLAMA_TIMEOUT');
  }
}

/** A response broke off: a mid-stream `{"error"}` line, a stream without `done`, or a cut-off body. */
export class OllamaStreamError extends TinyLLMError<'TINYLLM_OLLAMA_STREAM'> {
  /** error: Ollama sent an error line; incomplete: the response ended (or broke) before `done`. */
  readonly reason: 'error' | 'incomplete';
  constructor(reason: 'error' | 'incomplete', message: string, options?: { cause?: unknown }) {
    super('TINYLLM_OLLAMA_STREAM', message, options);
    this.reason = reason;
  }
  /** True for an OllamaStreamError from any copy of this package. */
  static override isInstance(error: unknown): error is OllamaStreamError {
    return hasCode(error, 'TINYLLM_OLLAMA_STREAM');
  }
}

/** The text ollama-js throws when a stream ends without a done chunk. */
export const INCOMPLETE_STREAM_MESSAGE = 'Did not receive done or success response in stream.';

/** True for the AbortError a caller's abort() produces (these pass through untranslated). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof TypeError && /fetch failed|terminated|other side closed|ECONN|socket/i.test(error.message);
}

/**
 * Turns what the official client throws into the typed errors: ResponseError (not exported by
 * ollama-js, so matched by name and status_code) → OllamaHttpError, a failed fetch →
 * OllamaUnreachableError, the missing-done message → OllamaStreamError. With `inStream`, any other
 * plain failure while reading a stream (an `{"error"}` line, a broken connection) → OllamaStreamError.
 * TinyLLM errors and AbortErrors are returned unchanged.
 */
export function toOllamaError(error: unknown, host: string, inStream = false): unknown {
  if (TinyLLMError.isInstance(error) || isAbortError(error)) return error;
  if (typeof error !== 'object' || error === null) return error;
  const e = error as { name?: unknown; status_code?: unknown; error?: unknown; message?: unknown };
  if (e.name === 'ResponseError' && typeof e.status_code === 'number') {
    const message = typeof e.error === 'string' ? e.error : String(e.message);
    return new OllamaHttpError(e.status_code, message, { cause: error });
  }
  if (e.message === INCOMPLETE_STREAM_MESSAGE) return new OllamaStreamError('incomplete', INCOMPLETE_STREAM_MESSAGE, { cause: error });
  if (error instanceof SyntaxError) return new OllamaStreamError('incomplete', `Ollama sent an incomplete response: ${error.message}`, { cause: error });
  if (inStream) {
    if (isFetchFailure(error)) return new OllamaStreamError('incomplete', `the stream from Ollama broke off: ${String(e.message)}`, { cause: error });
    if (error instanceof Error && error.constructor === Error) return new OllamaStreamError('error', error.message, { cause: error });
    return error;
  }
  if (isFetchFailure(error)) return new OllamaUnreachableError(host, { cause: error });
  return error;
}

/**
 * Whether a failed call is an outage of the model (stale-if-error may answer it): Ollama could not
 * be reached, did not answer in time, answered 5xx, or broke off its answer. A 4xx (a bad request,
 * an unknown model) is the caller's to see.
 */
export function isOllamaOutage(error: unknown): boolean {
  if (!TinyLLMError.isInstance(error)) return false;
  if (error.code === 'TINYLLM_OLLAMA_HTTP') return (error as OllamaHttpError).status_code >= 500;
  return error.code === 'TINYLLM_OLLAMA_UNREACHABLE' || error.code === 'TINYLLM_OLLAMA_TIMEOUT' || error.code === 'TINYLLM_OLLAMA_STREAM';
}
