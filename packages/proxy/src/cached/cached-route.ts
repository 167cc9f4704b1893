/**
 * The proxy's front door to the cache engine: answers POST on the cached routes. It plans the
 * engine call from the request (remembered for a byte-identical body), lets the engine answer (the
 * cache, a flight already under way, or Ollama), and writes the answer in the route's wire format.
 * What the proxy cannot key faithfully, and what only loads or unloads a model, goes to Ollama
 * untouched (X-Cache: BYPASS).
 */
import { InvalidRequestError } from '@tinyllm/cache-core';
import {
  type CacheEngine,
  type EndpointProfile,
  type EngineAnswer,
  type EngineCall,
  isAbortError,
  isObject,
  type JsonObject,
  OllamaTimeoutError,
} from '@tinyllm/ollama-cached/engine';
import { DEFAULT_CONTROLS } from '../controls.js';
import { UpstreamBusyError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.js';
import type { CachedRouteHandler, CachedRouteRequest } from '../handler.js';
import { clientResponseHeaders } from '../headers.js';
import { keyPrefixOf } from '../key-prefix.js';
import { ENGINE_ENDPOINTS, planCall } from './plan.js';
import { PlanMemo } from './plan-memo.js';
import { cacheHeaderOf, wholeReplay, writeReplay, writeStream, writeWhole } from './respond-answer.js';
import { UpstreamAnswer } from './upstream-answer.js';

function bypass(request: CachedRouteRequest): Promise<void> {
  request.res.setHeader('X-Cache', 'BYPASS');
  request.setCacheResult('BYPASS');
  return request.passThrough();
}

/**
 * The abort of one request's wait, made only when the engine waits (a hit answered at once needs
 * none): aborts when the client goes away, also for a signal made after it left.
 */
class ClientGone {
  #controller: AbortController | undefined;
  #reason: Error | undefined;

  /** The signal the engine's waits listen to. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** The client went away. */
  abort(): void {
    this.#reason ??= new Error('the client went away');
    this.#controller?.abort(this.#reason);
  }
}

/** The cached routes' handler over an engine (see the module comment). */
export function createCachedRoutes(engine: CacheEngine): CachedRouteHandler {
  const memo = new PlanMemo();
  return (request) => {
    const endpoint = ENGINE_ENDPOINTS[request.route.endpoint];
    const plan = memo.planOf(endpoint, request.namespace, request.body);
    const body = plan.request;
    if (body === undefined) return bypass(request);
    const { req, res } = request;
    request.setModel(body.model as string);
    // Remember the key for the next byte-identical body (the engine derives it once).
    if (plan.key === undefined && engine.cache !== undefined) {
      try {
        const keyed: EngineCall = { endpoint, request: body, model: undefined, stream: plan.stream };
        plan.key = engine.keyOf(request.namespace === undefined ? keyed : { ...keyed, namespace: request.namespace }, engine.cache);
      } catch (error) {
        // A body the key rules refuse (an image that is neither base64 nor bytes, nesting too deep
        // to key): Ollama decides what it means, as it would without the proxy.
        if (!InvalidRequestError.isInstance(error)) return answerFailure(request, error);
        plan.request = undefined;
        return bypass(request);
      }
    }
    const gone = new ClientGone();
    const { call, profile } = planCall({
      endpoint,
      plan: plan as typeof plan & { request: typeof body },
      body: request.body,
      path: request.path,
      rawHeaders: req.rawHeaders,
      connection: req.headers.connection,
      forwardAuthorization: request.upstream.forwardAuthorization,
      controls: request.controls,
      hasControls: request.controls !== DEFAULT_CONTROLS,
      namespace: request.namespace,
      gone,
    });
    const answer = engine.answer(call);
    // A hit answered at once: written in this tick, nothing to wait for.
    if (!(answer instanceof Promise)) return respond(request, profile, body, answer);
    // Registered in the same tick the wait began: a close cannot come in between.
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort();
    };
    res.once('close', onClose);
    return answer
      .then((ready) => respond(request, profile, body, ready))
      .catch((error: unknown) => {
        // The same refusal from inside the engine (a cache still loading derives the key there).
        if (InvalidRequestError.isInstance(error) && !res.headersSent && !res.destroyed) return bypass(request);
        answerFailure(request, error);
      })
      .finally(() => res.off('close', onClose));
  };
}

// Writes the engine's answer; a stream is written as it comes (the promise settles when it is done).
function respond(request: CachedRouteRequest, profile: EndpointProfile, body: JsonObject, answer: EngineAnswer): Promise<void> | undefined {
  const { res } = request;
  request.setCacheResult(cacheHeaderOf(answer.info.status), answer.info.key === '' ? undefined : answer.info.key);
  if (answer.kind === 'not-cached') {
    res.setHeader('X-Cache', 'MISS');
    if (answer.info.key !== '') res.setHeader('X-TinyLLM-Key', keyPrefixOf(answer.info.key));
    request.sendError(504, 'the answer is not in the cache, and the request said Cache-Control: only-if-cached');
    return undefined;
  }
  // A hit is written with the turn's other answers (see turn-writes.ts); anything else at once: a
  // miss's store write waits for the next turn (cache-core), and its answer must not wait behind it.
  const hit = answer.info.status === 'hit';
  if (answer.kind === 'whole') {
    writeNowOrAtTurnEnd(request, hit, () => writeWhole(res, profile, answer));
    return undefined;
  }
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  // A replay from the store is whole at once: written in one write.
  const replay = wholeReplay(profile, answer, includeUsage);
  if (replay !== undefined) {
    writeNowOrAtTurnEnd(request, hit, () => writeReplay(res, profile, answer, replay));
    return undefined;
  }
  return writeStream(res, profile, answer, includeUsage);
}

// Runs `write` with the turn's other answers when `atTurnEnd` (a hit), else at once.
function writeNowOrAtTurnEnd(request: CachedRouteRequest, atTurnEnd: boolean, write: () => void): void {
  if (atTurnEnd) request.writeAtTurnEnd(write);
  else write();
}

// An answer that did not come: Ollama's own error answer as it sent it; a 502 or 504 in the route's
// shape when Ollama could not be reached or did not answer in time. Never stored (the engine saw to that).
function answerFailure(request: CachedRouteRequest, error: unknown): void {
  const { res } = request;
  if (res.destroyed || isAbortError(error)) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  request.setCacheResult('MISS');
  if (UpstreamAnswer.isInstance(error)) {
    const headers = clientResponseHeaders({ ...error.headers });
    delete headers['content-length'];
    res.writeHead(error.status, { ...headers, 'Content-Length': error.body.length, 'X-Cache': 'MISS' });
    res.end(error.body);
    return;
  }
  res.setHeader('X-Cache', 'MISS');
  if (UpstreamBusyError.isInstance(error)) request.sendError(503, error.message, { 'Retry-After': String(error.retryAfterSeconds) });
  else if (UpstreamTimeoutError.isInstance(error)) request.sendError(504, error.message);
  else if (UpstreamUnreachableError.isInstance(error)) request.sendError(502, error.message);
  else if (OllamaTimeoutError.isInstance(error)) request.sendError(504, error.message);
  else throw error;
}
