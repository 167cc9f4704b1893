import type { ServerResponse } from 'node:http';
import { goJson, sendBody, sendJson, writeChunk } from '../http.js';

/**
 * Where a model handler writes its answer. The native writer frames it as Ollama's handlers do
 * (NDJSON or one JSON body); the /v1 writers re-encode the same native objects the way Ollama's
 * OpenAI middleware wraps gin's ResponseWriter (middleware/openai.go), so faults and errors reach
 * both APIs through one path.
 */
export interface AnswerWriter {
  /** An error before the first byte: the status with `{"error": message}` (c.JSON). */
  fail(status: number, message: string): void;
  /** One whole JSON document with status 200 (a stream:false answer or a load reply). */
  whole(body: Record<string, unknown>): void;
  /** A whole document cut off halfway (a truncate fault on a stream:false answer). */
  wholeCut(body: Record<string, unknown>): void;
  /** One streamed chunk; resolves false once the client has gone. */
  chunk(body: Record<string, unknown>): Promise<boolean>;
  /** The final done:true chunk of a stream, then the end of the response. */
  finish(body: Record<string, unknown>): Promise<void>;
  /** An error inside a stream: an `{"error"}` line under the 200 (or a 500 if nothing was sent yet), then the end. */
  streamError(message: string): Promise<void>;
  /** Ends a stream with neither a final chunk nor an error (a truncate fault). */
  cut(): void;
}

/** Ollama's own framing: NDJSON streams (streamResponse, routes.go:2097-2130) and c.JSON bodies. */
export class NativeWriter implements AnswerWriter {
  /** Creates a writer on `res`. */
  constructor(private readonly res: ServerResponse) {}

  fail(status: number, message: string): void {
    sendJson(this.res, status, { error: message });
  }

  whole(body: Record<string, unknown>): void {
    sendJson(this.res, 200, body);
  }

  wholeCut(body: Record<string, unknown>): void {
    if (this.res.headersSent || this.res.destroyed) return;
    const text = goJson(body);
    this.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    this.res.end(text.slice(0, Math.floor(text.length / 2)));
  }

  async chunk(body: Record<string, unknown>): Promise<boolean> {
    // Headers go out with the first chunk, like gin's c.Stream + Flush.
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    return writeChunk(this.res, `${goJson(body)}\n`);
  }

  async finish(body: Record<string, unknown>): Promise<void> {
    if (await this.chunk(body)) this.res.end();
  }

  async streamError(message: string): Promise<void> {
    if (!this.res.headersSent) {
      // Nothing written yet: streamResponse answers c.JSON(500) under Content-Type application/json.
      sendBody(this.res, 500, 'application/json', goJson({ error: message }));
      return;
    }
    await writeChunk(this.res, `${goJson({ error: message })}\n`);
    this.res.end();
  }

  cut(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    this.res.end();
  }
}
