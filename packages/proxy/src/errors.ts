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

/** A keys file that cannot be used (unreadable, not JSON, a bad entry): the message names the file, the entry and the field, never a key. */
export class InvalidKeysFileError extends TinyLLMError {
  /** The file (or "keys" for keys given inline). */
  readonly source: string;
  /** Where in the file, e.g. "keys[2].role". */
  readonly where: string;
  constructor(source: string, where: string, reason: string) {
    super('TINYLLM_INVALID_KEYS_FILE', `Invalid keys file ${source}: ${where}: ${reason}`);
    this.source = source;
    this.where = where;
  }
  /** True for an InvalidKeysFileError from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidKeysFileError {
    return hasCode(error, 'TINYLLM_INVALID_KEYS_FILE');
  }
}

/** A request without a valid API key while the proxy has keys: answered 401. */
export class UnauthorizedError extends TinyLLMError {
  constructor(reason: string) {
    super('TINYLLM_UNAUTHORIZED', reason);
  }
  /** True for an UnauthorizedError from any copy of this package. */
  static override isInstance(error: unknown): error is UnauthorizedError {
    return hasCode(error, 'TINYLLM_UNAUTHORIZED');
  }
}

/** A valid key asked for an operation its role may not use: answered 403. */
export class ForbiddenError extends TinyLLMError {
  /** The operation refused, e.g. "metrics". */
  readonly operation: string;
  constructor(operation: string, reason: string) {
    super('TINYLLM_FORBIDDEN', reason);
    this.operation = operation;
  }
  /** True for a ForbiddenError from any copy of this package. */
  static override isInstance(error: unknown): error is ForbiddenError {
    return hasCode(error, 'TINYLLM_FORBIDDEN');
  }
}

/** A tenant sent more requests than its rate limit allows: answered 429 with Retry-After. */
export class RateLimitedError extends TinyLLMError {
  /** The tenant. */
  readonly tenant: string;
  /** Seconds until a request will be accepted again. */
  readonly retryAfterSeconds: number;
  constructor(tenant: string, requestsPerMinute: number, retryAfterSeconds: number) {
    super('TINYLLM_RATE_LIMITED', `rate limit exceeded: tenant "${tenant}" may send ${requestsPerMinute} requests a minute; retry in ${retryAfterSeconds} s`);
    this.tenant = tenant;
    this.retryAfterSeconds = retryAfterSeconds;
  }
  /** True for a RateLimitedError from any copy of this package. */
  static override isInstance(error: unknown): error is RateLimitedError {
    return hasCode(error, 'TINYLLM_RATE_LIMITED');
  }
}

/** Ollama already runs the most generations the proxy allows and the queue is full: answered 503 with Retry-After. */
export class UpstreamBusyError extends TinyLLMError {
  /** Generations running at Ollama (the bound). */
  readonly running: number;
  /** Requests waiting (the queue's bound). */
  readonly waiting: number;
  /** Seconds the client should wait before trying again. */
  readonly retryAfterSeconds: number;
  constructor(running: number, waiting: number, retryAfterSeconds: number) {
    super(
      'TINYLLM_UPSTREAM_BUSY',
      `server busy, please try again: ${running} generations are running at Ollama and ${waiting} more are waiting, the most this proxy allows`,
    );
    this.running = running;
    this.waiting = waiting;
    this.retryAfterSeconds = retryAfterSeconds;
  }
  /** True for an UpstreamBusyError from any copy of this package. */
  static override isInstance(error: unknown): error is UpstreamBusyError {
    return hasCode(error, 'TINYLLM_UPSTREAM_BUSY');
  }
}
