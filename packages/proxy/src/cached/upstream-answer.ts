import type { IncomingHttpHeaders } from 'node:http';
import { TinyLLMError } from '@tinyllm/cache-core';

/**
 * An answer of Ollama's that the cache does not keep (an error status, or a body that is not an
 * answer): the caller gets it as Ollama sent it, status, headers and bytes. Thrown through the
 * engine so every caller of the same flight gets the same answer; never stored.
 */
export class UpstreamAnswer extends TinyLLMError {
  /** Ollama's HTTP status. */
  readonly status: number;
  /** Ollama's response headers. */
  readonly headers: IncomingHttpHeaders;
  /** Ollama's response body, as sent. */
  readonly body: Buffer;
  constructor(status: number, headers: IncomingHttpHeaders, body: Buffer) {
    super('TINYLLM_UPSTREAM_ANSWER', `Ollama answered ${status}${status >= 400 ? `: ${errorText(body)}` : ' with a body that is not a cacheable answer'}`);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
  /** True for an UpstreamAnswer from any copy of this package. */
  static override isInstance(error: unknown): error is UpstreamAnswer {
    return TinyLLMError.isInstance(error) && error.code === 'TINYLLM_UPSTREAM_ANSWER';
  }
}

// The message of Ollama's error body, for logs: `{"error": "..."}`, OpenAI's `{"error": {"message"}}`, or the text.
function errorText(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 500));
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    const nested = parsed.error as { message?: unknown } | undefined;
    if (typeof nested?.message === 'string') return nested.message;
  } catch {
    // not JSON
  }
  return text;
}
