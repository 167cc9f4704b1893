/**
 * The fake's own control surface under /__fake/, a path Ollama never serves: lets a shell user
 * (curl) or another process script faults, read counts and change digests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultFromJson } from './faults.js';
import type { ServerSettings } from './handlers/context.js';
import { readBody, sendEmpty, sendJson } from './http.js';
import { checkLatency, checkPullInterval, checkTokensPerSecond } from './options.js';
import type { FakeOllamaServer } from './server.js';

/** What the admin routes act on. */
export interface AdminApi {
  /** The server handle. */
  server: FakeOllamaServer;
  /** The request log. */
  requests: Array<{ route: string; body: unknown }>;
  /** Live settings. */
  settings: ServerSettings;
}

/** The admin routes, for the README and the 404 text. */
export const ADMIN_ROUTES = [
  'GET /__fake/counts',
  'DELETE /__fake/counts',
  'GET /__fake/requests',
  'POST /__fake/faults',
  'DELETE /__fake/faults',
  'POST /__fake/models/:name/digest',
  'POST /__fake/settings',
];

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new RangeError('the body is not valid JSON');
  }
}

/** Serves one /__fake/ request. */
export async function handleAdmin(api: AdminApi, path: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const route = `${method} ${path}`;
    if (route === 'GET /__fake/counts') {
      sendJson(res, 200, { counts: api.server.counts, modelCalls: api.server.modelCalls() });
    } else if (route === 'DELETE /__fake/counts') {
      api.server.resetCounts();
      sendEmpty(res, 204);
    } else if (route === 'GET /__fake/requests') {
      sendJson(res, 200, { requests: api.requests });
    } else if (route === 'POST /__fake/faults') {
      const body = await jsonBody(req);
      const list = (Array.isArray(body) ? body : [body]).map(faultFromJson);
      for (const { fault, times } of list) api.server.failNext(fault, times);
      sendJson(res, 200, { queued: list.length });
    } else if (route === 'DELETE /__fake/faults') {
      api.server.clearFaults();
      sendEmpty(res, 204);
    } else if (method === 'POST' && /^\/__fake\/models\/[^/]+\/digest$/.test(path)) {
      const name = decodeURIComponent(path.split('/')[3] ?? '');
      const body = await jsonBody(req);
      const digest = body !== null && typeof body === 'object' && 'digest' in body ? (body as { digest: unknown }).digest : undefined;
      if (digest !== undefined && typeof digest !== 'string') throw new RangeError('digest must be a string of 64 hex characters');
      if (!api.settings.catalog.find(name)) {
        sendJson(res, 404, { error: `model '${name}' not found` });
        return;
      }
      sendJson(res, 200, { name, digest: api.server.setModelDigest(name, digest) });
    } else if (route === 'POST /__fake/settings') {
      const body = ((await jsonBody(req)) ?? {}) as Record<string, unknown>;
      if (body.latencyMs !== undefined) api.settings.latencyMs = checkLatency(body.latencyMs as number);
      if (body.tokensPerSecond !== undefined) api.settings.tokensPerSecond = checkTokensPerSecond(body.tokensPerSecond as number);
      if (body.pullIntervalMs !== undefined) api.settings.pullIntervalMs = checkPullInterval(body.pullIntervalMs as number);
      sendJson(res, 200, { latencyMs: api.settings.latencyMs, tokensPerSecond: api.settings.tokensPerSecond, pullIntervalMs: api.settings.pullIntervalMs });
    } else {
      sendJson(res, 404, { error: `no admin route ${route}; known: ${ADMIN_ROUTES.join(', ')}` });
    }
  } catch (err) {
    if (err instanceof RangeError) sendJson(res, 400, { error: err.message });
    else throw err;
  }
}
