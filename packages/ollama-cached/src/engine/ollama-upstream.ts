import type { ChatRequest, EmbeddingsRequest, EmbedRequest, GenerateRequest, Ollama } from 'ollama';
import { OllamaStreamError, redactHost, toOllamaError } from '../errors.js';
import type { EngineCall } from './engine.js';
import { copyJson, type JsonObject } from './json.js';
import { profileOf } from './profiles.js';
import type { Upstream, UpstreamStream } from './upstream.js';

type OllamaStream = AsyncIterable<object> & { abort(): void };

// ollama-js keeps every stream in a list until it ends with done, so a failed or aborted one stays
// forever (ollama-js#295): drop ours once it has settled either way.
function forgetStream(inner: Ollama, stream: OllamaStream): void {
  const ongoing = (inner as unknown as { ongoingStreamedRequests?: unknown }).ongoingStreamedRequests;
  if (!Array.isArray(ongoing)) return;
  const index = ongoing.indexOf(stream);
  if (index >= 0) ongoing.splice(index, 1);
}

/**
 * The cached client's way to the model: an ollama-js client (the official `Ollama` or an
 * OllamaClient). What it throws is typed (OllamaHttpError, OllamaUnreachableError,
 * OllamaStreamError...). A whole answer that is not complete (no `done: true`, or not an Ollama
 * answer at all) is an OllamaStreamError, as a stream that ends without done already is.
 */
export class OllamaJsUpstream implements Upstream {
  /** The model's address (credentials removed). */
  readonly host: string;
  readonly #inner: Ollama;
  readonly #rawHost: string;

  constructor(inner: Ollama, host: string) {
    this.#inner = inner;
    this.#rawHost = host;
    this.host = redactHost(host);
  }

  /** One non-streaming call; ollama-js mutates what it is given, so it gets a copy. */
  async whole({ endpoint, request }: EngineCall): Promise<JsonObject> {
    let response: object;
    try {
      switch (endpoint) {
        case 'generate':
          response = await this.#inner.generate({ ...copyJson(request), stream: false } as unknown as GenerateRequest & { stream: false });
          break;
        case 'chat':
          response = await this.#inner.chat({ ...copyJson(request), stream: false } as unknown as ChatRequest & { stream: false });
          break;
        case 'embed':
          response = await this.#inner.embed(copyJson(request) as unknown as EmbedRequest);
          break;
        case 'embeddings':
          response = await this.#inner.embeddings(copyJson(request) as unknown as EmbeddingsRequest);
          break;
        default:
          throw new TypeError(`the Ollama client has no ${endpoint} endpoint`);
      }
    } catch (error) {
      throw toOllamaError(error, this.#rawHost);
    }
    const answer = response as JsonObject;
    if (typeof answer !== 'object' || answer === null || !profileOf(endpoint).isAnswer(answer)) {
      throw new OllamaStreamError(
        'incomplete',
        `Ollama at ${this.host} sent an incomplete answer to /api/${endpoint} (no "done": true, or not an Ollama answer); nothing was cached`,
      );
    }
    return answer;
  }

  /** Ollama's model list (GET /api/tags), for digests. */
  async tags(): Promise<JsonObject> {
    try {
      return (await this.#inner.list()) as unknown as JsonObject;
    } catch (error) {
      throw toOllamaError(error, this.#rawHost);
    }
  }

  /** A streaming generate or chat call; resolves once Ollama answered with its headers. */
  async stream({ endpoint, request }: EngineCall, signal: AbortSignal): Promise<UpstreamStream> {
    const body = { ...copyJson(request), stream: true as const };
    let stream: OllamaStream;
    try {
      stream = (
        endpoint === 'chat'
          ? await this.#inner.chat(body as unknown as ChatRequest & { stream: true })
          : await this.#inner.generate(body as unknown as GenerateRequest & { stream: true })
      ) as OllamaStream;
    } catch (error) {
      throw toOllamaError(error, this.#rawHost);
    }
    const inner = this.#inner;
    const host = this.#rawHost;
    const abort = (): void => stream.abort();
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    return {
      abort,
      async *[Symbol.asyncIterator]() {
        try {
          yield* stream as AsyncIterable<JsonObject>;
        } catch (error) {
          throw toOllamaError(error, host, true);
        } finally {
          signal.removeEventListener('abort', abort);
          forgetStream(inner, stream);
        }
      },
    };
  }
}
