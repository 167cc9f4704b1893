import { TinyLLMError } from '@tinyllm/cache-core';
import { OllamaHttpError, OllamaTimeoutError, OllamaUnreachableError } from './errors.js';

/** The fetch signature ollama-js accepts. */
export type FetchFn = typeof fetch;

/** Options of createRetryFetch. */
export interface RetryFetchOptions {
  /** Ollama's base URL, for error messages. */
  host: string;
  /** Deadline per attempt in ms: the whole exchange, or for streams the wait for the response headers. */
  timeoutMs: number;
  /** Retries after the first attempt, on connection errors and 5xx only. */
  maxRetries: number;
  /** Base of the exponential backoff in ms (doubled per retry, with jitter). */
  retryDelayMs: number;
  /** The fetch to wrap. Default: globalThis.fetch. */
  fetch?: FetchFn;
}

/** Milliseconds to wait before retry number `attempt` (0-based): base * 2^attempt, jittered to 50-100%. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** attempt;
  return ceiling / 2 + random() * (ceiling / 2);
}

function isStreamingBody(body: unknown): boolean {
  if (typeof body !== 'string' || !body.includes('"stream"')) return false;
  try {
    return (JSON.parse(body) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

// The message rules of ollama-js's checkOk: the JSON `error` field, else the body text, else the status line.
async function httpError(response: Response): Promise<OllamaHttpError> {
  let message = `Error ${response.status}: ${response.statusText}`;
  try {
    const text = await response.text();
    if (response.headers.get('content-type')?.includes('application/json')) {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string' && parsed.error !== '') message = parsed.error;
    } else if (text !== '') message = text;
  } catch {
    // keep the status line
  }
  return new OllamaHttpError(response.status, message);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A fetch for ollama-js with a deadline, retries and typed errors. Connection errors and 5xx are
 * retried with exponential backoff and jitter; 4xx never are, nor is anything once a stream's
 * headers have arrived. Non-2xx answers become OllamaHttpError, exhausted connection errors
 * OllamaUnreachableError, an elapsed deadline OllamaTimeoutError; the caller's own abort passes through.
 * Non-streaming bodies are read inside the deadline (and retried when the connection breaks).
 */
export function createRetryFetch(options: RetryFetchOptions): FetchFn {
  const { host, timeoutMs, maxRetries, retryDelayMs } = options;
  const baseFetch = options.fetch ?? globalThis.fetch;
  const retryFetch = async (input: Parameters<FetchFn>[0], init?: Parameters<FetchFn>[1]): Promise<Response> => {
    const callerSignal = init?.signal ?? undefined;
    const streaming = isStreamingBody(init?.body);
    for (let attempt = 0; ; attempt++) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      const controller = new AbortController();
      const forwardAbort = (): void => controller.abort(callerSignal?.reason);
      callerSignal?.addEventListener('abort', forwardAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      let handedOver = false;
      try {
        const response = await baseFetch(input, { ...init, signal: controller.signal });
        if (response.status >= 500 && attempt < maxRetries) {
          await response.body?.cancel().catch(() => {});
        } else if (!response.ok) {
          throw await httpError(response);
        } else if (streaming) {
          // The stream is the caller's from here on: no deadline, no retry; their abort still reaches it.
          handedOver = true;
          return response;
        } else {
          const body = await response.arrayBuffer();
          return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
        }
      } catch (error) {
        if (callerSignal?.aborted) throw callerSignal.reason ?? error;
        if (timedOut) throw new OllamaTimeoutError(timeoutMs, host);
        if (TinyLLMError.isInstance(error)) throw error;
        if (attempt >= maxRetries) throw new OllamaUnreachableError(host, { cause: error });
      } finally {
        clearTimeout(timer);
        if (!handedOver) callerSignal?.removeEventListener('abort', forwardAbort);
      }
      await sleep(backoffDelay(attempt, retryDelayMs), callerSignal);
    }
  };
  return retryFetch as FetchFn;
}
