import { InvalidOptionError } from '@tinyllm/cache-core';
import type { Ollama } from 'ollama';
import { CachedOllamaClient } from './cached-client.js';
import { OllamaClient, type OllamaClientOptions } from './ollama-client.js';
import type { CacheBackendChoice, CacheSettings } from './resolve-cache.js';

/** Options of createCachedClient; every one has a default. */
export interface CreateCachedClientOptions extends CacheSettings {
  /** A ready client (OllamaClient or the official Ollama); host/timeoutMs/maxRetries/retryDelayMs/headers are then ignored. @default a new OllamaClient */
  client?: Ollama;
  /** Ollama's address. @default $OLLAMA_HOST, else http://127.0.0.1:11434 */
  host?: string;
  /** Deadline of each Ollama request in ms (streams: until the headers, then between two chunks). @default 300000 */
  timeoutMs?: number;
  /** Retries on connection errors and 5xx. @default 2 */
  maxRetries?: number;
  /** Base backoff between retries in ms. @default 200 */
  retryDelayMs?: number;
  /** Extra headers for every Ollama request. @default none */
  headers?: Record<string, string>;
  /** The store: 'memory', 'redis' and 'sqlite' by name (the last two load their packages on first use), a CacheBackend or a ResponseCache. @default 'memory' */
  backend?: CacheBackendChoice;
  /** false: no caching at all, every call goes to Ollama. @default true */
  enableCache?: boolean;
}

/**
 * A CachedOllamaClient with its cache, synchronously: `createCachedClient({ backend: 'redis' })`.
 * Redis and SQLite stores load their packages on first use; `await client.ready()` to fail fast
 * (MissingPackageError names the package to install).
 */
export function createCachedClient(options: CreateCachedClientOptions = {}): CachedOllamaClient {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
  const { client, host, timeoutMs, maxRetries, retryDelayMs, headers, backend, ...settings } = options;
  const inner = client ?? new OllamaClient(clientOptions({ host, timeoutMs, maxRetries, retryDelayMs, headers }));
  return new CachedOllamaClient({ ...settings, client: inner, ...(backend === undefined ? {} : { cache: backend }) });
}

function clientOptions(options: OllamaClientOptions): OllamaClientOptions {
  const out: OllamaClientOptions = {};
  for (const key of ['host', 'timeoutMs', 'maxRetries', 'retryDelayMs', 'headers'] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}
