/**
 * The engine's way to Ollama from the proxy: the upstream's undici pool, the leader's own request
 * bytes and headers, and the answer parsed as it arrives (NDJSON natively, Server-Sent Events on
 * /v1). What is not a cacheable answer is thrown as an UpstreamAnswer, so it reaches every waiting
 * caller as Ollama sent it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { TinyLLMError } from '@tinyllm/cache-core';
import {
  DONE_EVENT,
  type EngineCall,
  type Upstream as EngineUpstream,
  isAbortError,
  isObject,
  type JsonObject,
  OllamaStreamError,
  OllamaTimeoutError,
  type UpstreamStream,
} from '@tinyllm/ollama-cached/engine';
import { UpstreamBusyError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.js';
import type { ReleaseSlot } from '../gate.js';
import type { Upstream } from '../upstream.js';
import { lines, sseData } from './frames.js';
import { UpstreamAnswer } from './upstream-answer.js';
import { type CallResponse, callUpstream } from './upstream-call.js';

/** A call as the proxy plans it: the engine's call plus what an HTTP request to Ollama needs. */
export interface ProxyCall extends EngineCall {
  /** Path and query to request from Ollama. */
  readonly path: string;
  /** Headers for Ollama: the client's, less hop-by-hop ones, Host, Origin, Content-Length and the proxy's own (built only when Ollama is asked). */
  upstreamHeaders(): readonly string[];
  /** The request body exactly as the client sent it. */
  readonly body: Uint8Array;
}

/** Ollama's own bytes of a whole answer, kept for the caller that asked for it (transparency). */
export interface RawAnswer {
  /** Ollama's status. */
  readonly status: number;
  /** Ollama's response headers. */
  readonly headers: IncomingHttpHeaders;
  /** The body as Ollama sent it. */
  readonly body: Buffer;
}

const RAW = new WeakMap<object, RawAnswer>();

/** Ollama's bytes for an answer this upstream returned (EngineAnswer.origin), if it has them. */
export function rawAnswerOf(origin: object | undefined): RawAnswer | undefined {
  return origin === undefined ? undefined : RAW.get(origin);
}

// Error answers are small; a runaway one is cut rather than held in memory whole.
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/** The engine's Upstream over the proxy's undici pool. */
export class ProxyEngineUpstream implements EngineUpstream {
  /** Ollama's address (credentials removed). */
  readonly host: string;
  readonly #upstream: Upstream;

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
    this.host = upstream.url;
  }

  // Takes a slot of the generation bound (waiting in its queue if need be; UpstreamBusyError when
  // the queue is full), then sends the call. The caller gives the slot back once the answer has
  // been read or has failed.
  async #send(call: ProxyCall, body: Uint8Array, signal: AbortSignal): Promise<{ response: CallResponse; release: ReleaseSlot }> {
    const upstream = this.#upstream;
    const release = upstream.gate.tryAcquire() ?? (await this.#wait(signal));
    if (signal.aborted) {
      release();
      throw signal.reason;
    }
    const startedAt = performance.now();
    upstream.counters.upstreamRequests++;
    try {
      const response = await callUpstream(
        upstream.pool,
        { path: upstream.pathFor(call.path), headers: [...call.upstreamHeaders(), 'content-length', String(body.byteLength)], body },
        signal,
        // However the call ends, its slot is given back (and at once, for an answer nobody reads to the end).
        release,
      );
      upstream.counters.upstreamLatency.observe((performance.now() - startedAt) / 1000);
      return { response, release };
    } catch (error) {
      release();
      if (signal.aborted) throw error;
      throw upstream.failure(error, false);
    }
  }

  async #wait(signal: AbortSignal): Promise<ReleaseSlot> {
    try {
      return await this.#upstream.gate.acquire(signal);
    } catch (error) {
      if (UpstreamBusyError.isInstance(error)) this.#upstream.counters.upstreamBusy++;
      throw error;
    }
  }

  /** Ollama's model list (GET /api/tags), for keys bound to a model's digest; not gated (it generates nothing). */
  async tags(signal: AbortSignal): Promise<JsonObject> {
    const upstream = this.#upstream;
    const { statusCode, body } = await upstream.pool.request({ method: 'GET', path: upstream.pathFor('/api/tags'), signal });
    const text = await body.text();
    if (statusCode !== 200) throw new Error(`GET /api/tags answered ${statusCode}`);
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('GET /api/tags answered something else than an object');
    return parsed;
  }

  /**
   * What stale-if-error may answer: Ollama unreachable, too slow, busy (the generation queue is
   * full), a 5xx, or an answer that broke off; never a 4xx or a client that went away.
   */
  isOutage(error: unknown): boolean {
    if (isAbortError(error)) return false;
    if (UpstreamAnswer.isInstance(error)) return error.status >= 500;
    if (
      UpstreamUnreachableError.isInstance(error) ||
      UpstreamTimeoutError.isInstance(error) ||
      UpstreamBusyError.isInstance(error) ||
      OllamaTimeoutError.isInstance(error) ||
      OllamaStreamError.isInstance(error)
    ) {
      return true;
    }
    // A socket error while a whole answer was being read (Upstream.failure passes those through).
    return error instanceof Error && !TinyLLMError.isInstance(error);
  }

  /** One non-streaming call; a 200 JSON object is the answer, anything else an UpstreamAnswer. */
  async whole(engineCall: EngineCall, signal: AbortSignal): Promise<JsonObject> {
    const call = engineCall as ProxyCall;
    const { response, release } = await this.#send(call, call.body, signal);
    let body: Buffer;
    try {
      body = await response.body.readAll(response.status === 200 ? undefined : MAX_ERROR_BODY_BYTES);
    } catch (error) {
      if (signal.aborted) throw error;
      throw this.#upstream.failure(error, true);
    } finally {
      release();
    }
    const headers = response.headers;
    if (response.status !== 200) throw new UpstreamAnswer(response.status, headers, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new UpstreamAnswer(response.status, headers, body);
    }
    if (!isObject(parsed)) throw new UpstreamAnswer(response.status, headers, body);
    RAW.set(parsed, { status: response.status, headers, body });
    return parsed;
  }

  /**
   * A streaming call. On /v1 the proxy always asks Ollama for the usage frame
   * (stream_options.include_usage), so the recording can serve callers that want it; each caller
   * gets it only when it asked (frameFor).
   */
  async stream(engineCall: EngineCall, signal: AbortSignal): Promise<UpstreamStream> {
    const call = engineCall as ProxyCall;
    const openai = call.endpoint.startsWith('v1/');
    const body = openai ? withUsage(call) : call.body;
    const { response, release } = await this.#send(call, body, signal);
    if (response.status !== 200) {
      let error: Buffer;
      try {
        error = await response.body.readAll(MAX_ERROR_BODY_BYTES);
      } catch (cause) {
        throw this.#upstream.failure(cause, true);
      } finally {
        release();
      }
      throw new UpstreamAnswer(response.status, response.headers, error);
    }
    const source = response.body;
    const upstream = this.#upstream;
    // The slot is held while the answer streams in, and given back however the stream ends (the
    // reader's finally below, or abort).
    return {
      abort: () => {
        release();
        response.body.destroy();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const event of openai ? sseData(source) : lines(source)) {
            if (event === '') continue;
            if (openai && event === '[DONE]') {
              yield { ...DONE_EVENT };
              continue;
            }
            let chunk: unknown;
            try {
              chunk = JSON.parse(event);
            } catch {
              throw new OllamaStreamError('incomplete', 'Ollama sent a stream event that is not JSON; nothing was cached');
            }
            if (isObject(chunk)) yield chunk;
          }
        } catch (error) {
          if (signal.aborted || OllamaStreamError.isInstance(error)) throw error;
          throw upstream.failure(error, true);
        } finally {
          release();
        }
      },
    };
  }
}

// The leader's /v1 request, asking for the usage frame too.
function withUsage(call: ProxyCall): Uint8Array {
  const options = call.request.stream_options;
  if (isObject(options) && options.include_usage === true) return call.body;
  const stream_options = isObject(options) ? { ...options, include_usage: true } : { include_usage: true };
  return Buffer.from(JSON.stringify({ ...call.request, stream_options }));
}
