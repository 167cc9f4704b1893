import { InvalidOptionError } from '@tinyllm/cache-core';
import type { AbortableAsyncIterator } from 'ollama';
import { Ollama } from 'ollama';
import { toOllamaError } from './errors.js';
import { createRetryFetch, type FetchFn } from './retry-fetch.js';
import { asAbortable, StreamIterator } from './stream-iterator.js';

/** Ollama's default address. */
export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

/** Defaults of OllamaClientOptions. */
export const OLLAMA_CLIENT_DEFAULTS = { timeoutMs: 300_000, maxRetries: 2, retryDelayMs: 200 } as const;

/** Options of OllamaClient; every one has a default. */
export interface OllamaClientOptions {
  /** Ollama's address (`host`, `host:port`, `:port` or a URL). Default: $OLLAMA_HOST, else http://127.0.0.1:11434. */
  host?: string;
  /** Deadline per attempt in ms; for streams it bounds the wait for the response headers only. Default 300000. */
  timeoutMs?: number;
  /** Retries on connection errors and 5xx (never on 4xx, never once a stream has started). Default 2. */
  maxRetries?: number;
  /** Base delay of the exponential backoff between retries, in ms (jittered). Default 200. */
  retryDelayMs?: number;
  /** Extra headers sent with every request (ollama-js drops Content-Type, Accept and User-Agent). */
  headers?: Record<string, string>;
  /** The fetch implementation underneath the retry wrapper. Default: globalThis.fetch. */
  fetch?: FetchFn;
}

/**
 * Normalises an Ollama address like ollama-js's formatHost: no scheme → http:// and port 11434; a
 * scheme without a port → 80/443; ":port" → 127.0.0.1; user:password@ kept; trailing "/" removed.
 */
export function formatHost(host: string | undefined): string {
  if (!host) return DEFAULT_OLLAMA_HOST;
  let value = host.trim();
  let explicitProtocol = value.includes('://');
  if (value.startsWith(':')) {
    value = `http://127.0.0.1${value}`;
    explicitProtocol = true;
  }
  if (!explicitProtocol) value = `http://${value}`;
  const url = new URL(value);
  const port = url.port || (explicitProtocol ? (url.protocol === 'https:' ? '443' : '80') : '11434');
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const formatted = `${url.protocol}//${auth}${url.hostname}:${port}${url.pathname}`;
  return formatted.endsWith('/') ? formatted.slice(0, -1) : formatted;
}

/** The address an OllamaClient uses: the option, else $OLLAMA_HOST, else the default, normalised. */
export function resolveHost(host?: string): string {
  const fromEnv = process.env.OLLAMA_HOST;
  return formatHost(host ?? (fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv));
}

function checkNumber(option: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(option, value, `a finite number >= ${min}`);
  }
  return value;
}

/**
 * The official ollama-js client plus what production needs: OLLAMA_HOST, a deadline, retries with
 * backoff on connection errors and 5xx, and typed errors (OllamaHttpError, OllamaUnreachableError,
 * OllamaTimeoutError, OllamaStreamError). HTTP and NDJSON stay ollama-js's; the extras live in an
 * injected fetch wrapper. Usable wherever an `Ollama` instance is expected.
 */
export class OllamaClient extends Ollama {
  /** The normalised Ollama address requests go to. */
  readonly host: string;
  /** Deadline per attempt in ms. */
  readonly timeoutMs: number;
  /** Retries on connection errors and 5xx. */
  readonly maxRetries: number;

  constructor(options: OllamaClientOptions = {}) {
    const host = resolveHost(options.host);
    const timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? OLLAMA_CLIENT_DEFAULTS.timeoutMs, 1);
    const maxRetries = Math.floor(checkNumber('maxRetries', options.maxRetries ?? OLLAMA_CLIENT_DEFAULTS.maxRetries, 0));
    const retryDelayMs = checkNumber('retryDelayMs', options.retryDelayMs ?? OLLAMA_CLIENT_DEFAULTS.retryDelayMs, 0);
    const fetch = createRetryFetch({ host, timeoutMs, maxRetries, retryDelayMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
    super({ host, fetch, ...(options.headers ? { headers: options.headers } : {}) });
    this.host = host;
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
  }

  /** ollama-js's request path, with its errors typed and its streams' errors typed too. */
  protected override async processStreamableRequest<T extends object>(
    endpoint: string,
    request: { stream?: boolean } & Record<string, unknown>,
  ): Promise<T | AbortableAsyncIterator<T>> {
    let result: T | AbortableAsyncIterator<T>;
    try {
      result = await super.processStreamableRequest<T>(endpoint, request);
    } catch (error) {
      throw toOllamaError(error, this.host);
    }
    if (!request.stream) return result;
    return asAbortable(typedStream(result as AbortableAsyncIterator<T>, this.host));
  }
}

/** Wraps an ollama-js stream so a mid-stream `{"error"}`, a missing done or a broken connection throws OllamaStreamError. */
export function typedStream<T extends object>(upstream: AbortableAsyncIterator<T>, host: string): StreamIterator<T> {
  return new StreamIterator<T>(
    async function* () {
      try {
        yield* upstream;
      } catch (error) {
        throw toOllamaError(error, host, true);
      }
    },
    () => upstream.abort(),
  );
}
