import type { EngineCall } from './engine.js';
import type { JsonObject } from './json.js';

/** A streamed answer from the model: its chunks as they arrive, and a way to stop it. */
export interface UpstreamStream extends AsyncIterable<JsonObject> {
  /** Cancels the request; the iteration then ends with an AbortError. */
  abort(): void;
}

/**
 * How the engine reaches the model. Each front door brings its own: the cached client wraps an
 * ollama-js client, the proxy speaks HTTP to Ollama. Errors are thrown as the front door wants its
 * callers to see them (typed errors for the library, the upstream's own status and body for the
 * proxy); the engine only counts them and never stores what failed.
 */
export interface Upstream {
  /** The model's address for messages and logs (credentials removed). */
  readonly host: string;
  /** One whole answer to call (a non-streaming request). The signal aborts it where the transport allows. */
  whole(call: EngineCall, signal: AbortSignal): Promise<JsonObject>;
  /** A streaming request; resolves once the model started answering (its headers arrived). */
  stream(call: EngineCall, signal: AbortSignal): Promise<UpstreamStream>;
  /** Ollama's /api/tags answer (`{ models: [{ name, digest }] }`), for keys bound to the model's digest. Without it, bindModelDigest is refused. */
  tags?(signal: AbortSignal): Promise<JsonObject>;
  /** Whether a failure is an outage of the model that stale-if-error may answer (unreachable, timeout, 5xx). @default isOllamaOutage */
  isOutage?(error: unknown): boolean;
}
