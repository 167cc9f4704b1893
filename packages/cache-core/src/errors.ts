const MARKER = Symbol.for('tinyllm.cache.error');

/**
 * The codes of the errors cache-core throws. Other packages own their codes: a subclass of
 * TinyLLMError elsewhere passes its own string union as the type parameter.
 */
export type CacheCoreErrorCode =
  | 'TINYLLM_INVALID_OPTION'
  | 'TINYLLM_INVALID_KEY'
  | 'TINYLLM_INVALID_REQUEST'
  | 'TINYLLM_BACKEND_CLOSED'
  | 'TINYLLM_BACKEND_ERROR'
  | 'TINYLLM_CACHE_TIMEOUT'
  | 'TINYLLM_DECODE_ERROR'
  | 'TINYLLM_UNSTORABLE_VALUE'
  | 'TINYLLM_MISSING_PACKAGE';

/**
 * Base class of every TinyLLM error. `isInstance()` works across duplicated package copies
 * (a marker symbol, not `instanceof`), like the Vercel AI SDK's errors. `Code` is the string
 * union of the subclass's codes; by convention every code starts with `TINYLLM_`.
 */
export class TinyLLMError<Code extends string = string> extends Error {
  /** Stable code: match on this, not on the message. */
  readonly code: Code;
  readonly [MARKER] = true;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /** True for any TinyLLM error, from any copy of this package. */
  static isInstance(error: unknown): error is TinyLLMError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

function hasCode(error: unknown, code: CacheCoreErrorCode): boolean {
  return TinyLLMError.isInstance(error) && error.code === code;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined || typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** An option or argument has a value it cannot take; the message names both. */
export class InvalidOptionError extends TinyLLMError<'TINYLLM_INVALID_OPTION'> {
  /** Name of the offending option, e.g. "defaultTtl". */
  readonly option: string;
  /** The value that was rejected. */
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super('TINYLLM_INVALID_OPTION', `Invalid option ${option}: ${describe(value)} (expected ${expected})`);
    this.option = option;
    this.value = value;
  }
  /** True for an InvalidOptionError from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidOptionError {
    return hasCode(error, 'TINYLLM_INVALID_OPTION');
  }
}

/** A cache key that is not a non-empty string. */
export class InvalidKeyError extends TinyLLMError<'TINYLLM_INVALID_KEY'> {
  /** The key that was rejected. */
  readonly key: unknown;
  constructor(key: unknown) {
    super('TINYLLM_INVALID_KEY', `Invalid cache key: ${describe(key)} (expected a non-empty string)`);
    this.key = key;
  }
  /** True for an InvalidKeyError from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidKeyError {
    return hasCode(error, 'TINYLLM_INVALID_KEY');
  }
}

/** A request that cannot be turned into a cache key (for example, no model). */
export class InvalidRequestError extends TinyLLMError<'TINYLLM_INVALID_REQUEST'> {
  /** The request field that was wrong, e.g. "model". */
  readonly field: string;
  constructor(field: string, message: string) {
    super('TINYLLM_INVALID_REQUEST', `Invalid request field ${field}: ${message}`);
    this.field = field;
  }
  /** True for an InvalidRequestError from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidRequestError {
    return hasCode(error, 'TINYLLM_INVALID_REQUEST');
  }
}

/** A call on a backend (or cache) after close(). */
export class BackendClosedError extends TinyLLMError<'TINYLLM_BACKEND_CLOSED'> {
  /** Name of the backend, e.g. "redis" ("cache" for a closed ResponseCache). */
  readonly backend: string;
  /** The operation that was called, e.g. "get". */
  readonly operation: string;
  constructor(backend: string, operation: string) {
    super('TINYLLM_BACKEND_CLOSED', `${backend} backend: ${operation}() called after close()`);
    this.backend = backend;
    this.operation = operation;
  }
  /** True for a BackendClosedError from any copy of this package. */
  static override isInstance(error: unknown): error is BackendClosedError {
    return hasCode(error, 'TINYLLM_BACKEND_CLOSED');
  }
}

/** A backend operation failed; `cause` holds the driver's own error. */
export class BackendError extends TinyLLMError<'TINYLLM_BACKEND_ERROR'> {
  /** Name of the backend, e.g. "redis". */
  readonly backend: string;
  /** The operation that failed, e.g. "get". */
  readonly operation: string;
  constructor(backend: string, operation: string, message: string, options?: { cause?: unknown }) {
    super('TINYLLM_BACKEND_ERROR', `${backend} backend: ${operation} failed: ${message}`, options);
    this.backend = backend;
    this.operation = operation;
  }
  /** True for a BackendError from any copy of this package. */
  static override isInstance(error: unknown): error is BackendError {
    return hasCode(error, 'TINYLLM_BACKEND_ERROR');
  }
}

/** A backend operation did not settle within its deadline. */
export class CacheTimeoutError extends TinyLLMError<'TINYLLM_CACHE_TIMEOUT'> {
  /** Name of the backend, e.g. "redis". */
  readonly backend: string;
  /** The operation that timed out, e.g. "get". */
  readonly operation: string;
  /** The deadline that elapsed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(backend: string, operation: string, timeoutMs: number) {
    super('TINYLLM_CACHE_TIMEOUT', `${backend} backend: ${operation} did not answer within ${timeoutMs} ms`);
    this.backend = backend;
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
  /** True for a CacheTimeoutError from any copy of this package. */
  static override isInstance(error: unknown): error is CacheTimeoutError {
    return hasCode(error, 'TINYLLM_CACHE_TIMEOUT');
  }
}

/** Where a CacheDecodeError happened, when known, and what caused it. */
export interface CacheDecodeErrorOptions {
  /** The underlying error (a JSON SyntaxError, for example). */
  cause?: unknown;
  /** Name of the backend that read the value, e.g. "redis". */
  backend?: string;
  /** The operation that read it, e.g. "get". */
  operation?: string;
}

/**
 * A stored value that is not a valid entry of this codec version (corrupt, foreign, truncated).
 * decodeEntry() does not know where the value came from; a backend built on BackendBase adds its
 * name and the operation before the error leaves it.
 */
export class CacheDecodeError extends TinyLLMError<'TINYLLM_DECODE_ERROR'> {
  /** What is wrong with the value, e.g. "malformed JSON (truncated or corrupt)". */
  readonly detail: string;
  /** Name of the backend that read the value, when known. */
  readonly backend: string | undefined;
  /** The operation that read it, when known. */
  readonly operation: string | undefined;
  constructor(detail: string, options: CacheDecodeErrorOptions = {}) {
    const where = options.backend === undefined ? '' : `${options.backend} backend: ${options.operation ?? 'read'}: `;
    super('TINYLLM_DECODE_ERROR', `${where}Cannot decode cache entry: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.detail = detail;
    this.backend = options.backend;
    this.operation = options.operation;
  }
  /** True for a CacheDecodeError from any copy of this package. */
  static override isInstance(error: unknown): error is CacheDecodeError {
    return hasCode(error, 'TINYLLM_DECODE_ERROR');
  }
}

/**
 * A value the cache cannot store because JSON cannot carry it: undefined, a function, a symbol,
 * a BigInt (at any depth) or a cyclic structure. Stored values are JSON on every backend, so a hit
 * never depends on which backend served it.
 */
export class UnstorableValueError extends TinyLLMError<'TINYLLM_UNSTORABLE_VALUE'> {
  constructor(value: unknown) {
    super('TINYLLM_UNSTORABLE_VALUE', `Cannot store ${describe(value)}: cached values must be JSON (no undefined, functions, symbols, BigInts or cycles)`);
  }
  /** True for an UnstorableValueError from any copy of this package. */
  static override isInstance(error: unknown): error is UnstorableValueError {
    return hasCode(error, 'TINYLLM_UNSTORABLE_VALUE');
  }
}

/** An optional package (for example @tinyllm/cache-redis) is needed but not installed. */
export class MissingPackageError extends TinyLLMError<'TINYLLM_MISSING_PACKAGE'> {
  /** The npm package to install. */
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super(
      'TINYLLM_MISSING_PACKAGE',
      `${feature} needs the package ${packageName}: install it with \`npm install ${packageName}\` (or pnpm add / yarn add)`,
      options,
    );
    this.packageName = packageName;
  }
  /** True for a MissingPackageError from any copy of this package. */
  static override isInstance(error: unknown): error is MissingPackageError {
    return hasCode(error, 'TINYLLM_MISSING_PACKAGE');
  }
}
