import { TinyLLMError } from '@tinyllm/cache-core';

function hasCode(error: unknown, code: TinyLLMError['code']): boolean {
  return TinyLLMError.isInstance(error) && error.code === code;
}

/** A per-request control (a header or the /ns/ path prefix) has a value the proxy cannot take: answered 400. */
export class InvalidControlError extends TinyLLMError {
  /** Where the value came from, e.g. "X-TinyLLM-TTL", "Cache-Control", "path /ns/ prefix". */
  readonly source: string;
  /** The value as received. */
  readonly value: string;
  constructor(source: string, value: string, reason: string) {
    super('TINYLLM_INVALID_CONTROL', `Invalid ${source}: ${JSON.stringify(value)} (${reason})`);
    this.source = source;
    this.value = value;
  }
  /** True for an InvalidControlError from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidControlError {
    return hasCode(error, 'TINYLLM_INVALID_CONTROL');
  }
}

/** A request body on a cached route is larger than bodyLimitBytes: answered 413. */
export class BodyTooLargeError extends TinyLLMError {
  /** The limit that was exceeded, in bytes. */
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super('TINYLLM_BODY_TOO_LARGE', `request body too large: the limit on this route is ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
  /** True for a BodyTooLargeError from any copy of this package. */
  static override isInstance(error: unknown): error is BodyTooLargeError {
    return hasCode(error, 'TINYLLM_BODY_TOO_LARGE');
  }
}

/** No connection to the upstream Ollama could be made (refused, reset, unknown host): answered 502. */
export class UpstreamUnreachableError extends TinyLLMError {
  /** The upstream base URL (credentials removed). */
  readonly upstream: string;
  constructor(upstream: string, reason: string, options?: { cause?: unknown }) {
    super('TINYLLM_UPSTREAM_UNREACHABLE', `cannot reach Ollama at ${upstream} (${reason}): is \`ollama serve\` running?`, options);
    this.upstream = upstream;
  }
  /** True for an UpstreamUnreachableError from any copy of this package. */
  static override isInstance(error: unknown): error is UpstreamUnreachableError {
    return hasCode(error, 'TINYLLM_UPSTREAM_UNREACHABLE');
  }
}

/** The upstream did not send its response headers (or the next body bytes) within upstreamTimeoutMs: answered 504. */
export class UpstreamTimeoutError extends TinyLLMError {
  /** The upstream base URL (credentials removed). */
  readonly upstream: string;
  /** The deadline that elapsed, in ms. */
  readonly timeoutMs: number;
  constructor(upstream: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('TINYLLM_UPSTREAM_TIMEOUT', `Ollama at ${upstream} did not answer within ${timeoutMs} ms`, options);
    this.upstream = upstream;
    this.timeoutMs = timeoutMs;
  }
  /** True for an UpstreamTimeoutError from any copy of this package. */
  static override isInstance(error: unknown): error is UpstreamTimeoutError {
    return hasCode(error, 'TINYLLM_UPSTREAM_TIMEOUT');
  }
}
