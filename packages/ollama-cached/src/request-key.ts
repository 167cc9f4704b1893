import { type CacheKeyRequest, generateCacheKey, InvalidRequestError, toOllamaRequest } from '@tinyllm/cache-core';
import type { JsonObject } from './engine/json.js';
import type { CachedEndpoint } from './engine/profile.js';
import { hasImages, withBase64Images } from './images.js';

const PER_CALL_FIELDS: ReadonlySet<string> = new Set(['stream']);

/** Options of requestCacheKey. */
export interface RequestCacheKeyOptions {
  /** The cache's namespace (ollamaResponseCache's / the proxy's), when it has one. @default none */
  namespace?: string;
}

/**
 * The key under which a CachedOllamaClient (and the proxy, for the native endpoints) stores the answer
 * to request on endpoint: the request as it goes to Ollama (the simple form lifted, images read as
 * base64, no stream field, no cache controls), hashed with the endpoint and the namespace. Async only
 * when there are image files to read.
 */
export async function requestCacheKey(endpoint: CachedEndpoint, request: object, options: RequestCacheKeyOptions = {}): Promise<string> {
  if (request === null || typeof request !== 'object') throw new InvalidRequestError('request', 'expected an object');
  let sent = toOllamaRequest(request as CacheKeyRequest, PER_CALL_FIELDS) as JsonObject;
  if ((endpoint === 'generate' || endpoint === 'chat') && hasImages(sent)) sent = await withBase64Images(sent);
  return generateCacheKey(
    sent as CacheKeyRequest,
    options.namespace === undefined ? { endpoint, exact: true } : { endpoint, exact: true, namespace: options.namespace },
  );
}
