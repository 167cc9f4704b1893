/**
 * Re-encoders of native answers into OpenAI's shapes: Ollama's ChatWriter, CompleteWriter and
 * EmbedWriter (middleware/openai.go:64-320) and the converters of openai/openai.go. They sit
 * where Ollama puts them, between the native handler and the socket.
 */
import type { ServerResponse } from 'node:http';
import { isRecord } from '../answers.js';
import type { AnswerWriter } from '../handlers/writer.js';
import { goJson, sendBody, writeChunk } from '../http.js';
import { parseModelName } from '../names.js';

/** OpenAI's error `type` for a status (NewError, openai.go). */
export function errorType(status: number): string {
  return status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
}

/** The OpenAI error body Ollama sends: `{"error":{"message","type","param":null,"code":null}}`. */
export function openAIError(status: number, message: string): Record<string, unknown> {
  return { error: { message, type: errorType(status), param: null, code: null } };
}

/** An error from the translator itself (AbortWithStatusJSON): gin's content type, no trailing newline. */
export function sendTranslatorError(res: ServerResponse, status: number, message: string): void {
  sendBody(res, status, 'application/json; charset=utf-8', goJson(openAIError(status, message)));
}

/** Unix seconds of a native `created_at` (0001-01-01 when absent, as Go's zero time; replaced by now where Ollama does). */
function unixSeconds(createdAt: unknown): number | undefined {
  if (typeof createdAt !== 'string') return undefined;
  const ms = Date.parse(createdAt.replace(/\.\d+/, ''));
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function usageOf(r: Record<string, unknown>): Record<string, number> {
  const prompt = typeof r.prompt_eval_count === 'number' ? r.prompt_eval_count : 0;
  const completion = typeof r.eval_count === 'number' ? r.eval_count : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** ToToolCalls: native tool calls with object arguments → OpenAI's, with arguments as a JSON string. */
export function toToolCalls(calls: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(calls)) return [];
  return calls.map((c) => {
    const call = isRecord(c) ? c : {};
    const fn = isRecord(call.function) ? call.function : {};
    return {
      id: typeof call.id === 'string' ? call.id : '',
      index: typeof fn.index === 'number' ? fn.index : 0,
      type: 'function',
      function: { name: typeof fn.name === 'string' ? fn.name : '', arguments: goJson(fn.arguments ?? {}) },
    };
  });
}

/** Shared framing: OpenAI errors for a native status, SSE frames, JSON bodies with a trailing newline (json.Encoder). */
abstract class OpenAIWriter implements AnswerWriter {
  /** Whether anything of a stream has been written. */
  protected started = false;

  /** Creates a writer on `res`. */
  constructor(
    protected readonly res: ServerResponse,
    protected readonly stream: boolean,
  ) {}

  fail(status: number, message: string): void {
    // writeError: the native error re-encoded, Content-Type application/json, json.Encoder's newline.
    sendBody(this.res, status, 'application/json', `${goJson(openAIError(status, message))}\n`);
  }

  /** The non-streamed OpenAI body for a native answer. */
  protected abstract convert(body: Record<string, unknown>): Record<string, unknown>;
  /** The SSE frames for one native chunk (including the finish, usage and [DONE] frames after a done chunk). */
  protected abstract frames(body: Record<string, unknown>): string[];

  whole(body: Record<string, unknown>): void {
    if (this.stream) {
      void this.writeFrames(this.frames(body)).then((ok) => ok && this.res.end());
      return;
    }
    sendBody(this.res, 200, 'application/json', `${goJson(this.convert(body))}\n`);
  }

  wholeCut(body: Record<string, unknown>): void {
    if (this.res.headersSent || this.res.destroyed) return;
    const text = `${goJson(this.convert(body))}\n`;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.end(text.slice(0, Math.floor(text.length / 2)));
  }

  protected async writeFrames(frames: string[]): Promise<boolean> {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    this.started = true;
    for (const f of frames) if (!(await writeChunk(this.res, f))) return false;
    return true;
  }

  chunk(body: Record<string, unknown>): Promise<boolean> {
    return this.writeFrames(this.frames(body));
  }

  async finish(body: Record<string, unknown>): Promise<void> {
    if (await this.chunk(body)) this.res.end();
  }

  async streamError(message: string): Promise<void> {
    if (!this.res.headersSent) {
      this.fail(500, message);
      return;
    }
    // The native {"error"} line is decoded as an empty response: one empty frame, then the end, no [DONE].
    if (await this.writeFrames(this.frames({}))) this.res.end();
  }

  cut(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    this.res.end();
  }
}

const frame = (obj: unknown): string => `data: ${goJson(obj)}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** /v1/chat/completions (ChatWriter, middleware/openai.go:80-181), in the >= v0.32.6 stream format. */
export class ChatWriter extends OpenAIWriter {
  private createdAt: number | undefined;
  private toolCallSent = false;

  /** Creates a writer; `id` is the completion id ("chatcmpl-N"). */
  constructor(
    res: ServerResponse,
    stream: boolean,
    private readonly id: string,
    private readonly includeUsage: boolean,
  ) {
    super(res, stream);
  }

  protected convert(r: Record<string, unknown>): Record<string, unknown> {
    const message = isRecord(r.message) ? r.message : {};
    const toolCalls = toToolCalls(message.tool_calls);
    let reason = typeof r.done_reason === 'string' ? r.done_reason : '';
    if (reason === 'stop' && toolCalls.length > 0) reason = 'tool_calls';
    const out: Record<string, unknown> = {
      role: message.role ?? '',
      content: message.content ?? '',
      ...(typeof message.thinking === 'string' && message.thinking !== '' ? { reasoning: message.thinking } : {}),
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    };
    return {
      id: this.id,
      object: 'chat.completion',
      created: unixSeconds(r.created_at) ?? -62135596800,
      model: r.model ?? '',
      system_fingerprint: 'fp_ollama',
      choices: [
        {
          index: 0,
          message: out,
          finish_reason: reason === '' ? null : reason,
          ...(Array.isArray(r.logprobs) && r.logprobs.length > 0 ? { logprobs: { content: r.logprobs } } : {}),
        },
      ],
      usage: usageOf(r),
    };
  }

  private chunkObject(r: Record<string, unknown>, delta: Record<string, unknown>, logprobs: unknown): Record<string, unknown> {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.createdAt,
      model: r.model ?? '',
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta, finish_reason: null, ...(Array.isArray(logprobs) && logprobs.length > 0 ? { logprobs: { content: logprobs } } : {}) }],
    };
  }

  protected frames(r: Record<string, unknown>): string[] {
    // One created value for the whole stream, pinned from the first response.
    this.createdAt ??= unixSeconds(r.created_at) ?? Math.floor(Date.now() / 1000);
    const message = isRecord(r.message) ? r.message : {};
    const content = typeof message.content === 'string' ? message.content : '';
    const thinking = typeof message.thinking === 'string' ? message.thinking : '';
    const toolCalls = toToolCalls(message.tool_calls);
    const done = r.done === true;
    const out: string[] = [];
    const emptyTrailer =
      done && this.started && content === '' && thinking === '' && toolCalls.length === 0 && !(Array.isArray(r.logprobs) && r.logprobs.length > 0);
    if (!emptyTrailer) {
      const role = this.started ? {} : { role: 'assistant' };
      const mixed = thinking !== '' && (content !== '' || toolCalls.length > 0);
      if (mixed) {
        out.push(frame(this.chunkObject(r, { ...role, reasoning: thinking }, r.logprobs)));
        out.push(frame(this.chunkObject(r, { content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }, undefined)));
      } else {
        const delta = { ...role, content, ...(thinking !== '' ? { reasoning: thinking } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
        out.push(frame(this.chunkObject(r, delta, r.logprobs)));
      }
      if (toolCalls.length > 0) this.toolCallSent = true;
      this.started = true;
    }
    if (done) {
      let reason = typeof r.done_reason === 'string' && r.done_reason !== '' ? r.done_reason : 'stop';
      if (reason === 'stop' && this.toolCallSent) reason = 'tool_calls';
      const finish = { id: this.id, object: 'chat.completion.chunk', created: this.createdAt, model: r.model ?? '', system_fingerprint: 'fp_ollama' };
      out.push(frame({ ...finish, choices: [{ index: 0, delta: {}, finish_reason: reason }] }));
      if (this.includeUsage) out.push(frame({ ...finish, choices: [], usage: usageOf(r) }));
      out.push(DONE);
    }
    return out;
  }
}

/** /v1/completions (CompleteWriter, middleware/openai.go:183-240). */
export class CompleteWriter extends OpenAIWriter {
  /** Creates a writer; `id` is the completion id ("cmpl-N"). */
  constructor(
    res: ServerResponse,
    stream: boolean,
    private readonly id: string,
    private readonly includeUsage: boolean,
  ) {
    super(res, stream);
  }

  private choice(r: Record<string, unknown>): Record<string, unknown> {
    const reason = typeof r.done_reason === 'string' && r.done_reason !== '' ? r.done_reason : null;
    return {
      text: typeof r.response === 'string' ? r.response : '',
      index: 0,
      finish_reason: reason,
      ...(Array.isArray(r.logprobs) && r.logprobs.length > 0 ? { logprobs: { content: r.logprobs } } : {}),
    };
  }

  protected convert(r: Record<string, unknown>): Record<string, unknown> {
    return {
      id: this.id,
      object: 'text_completion',
      created: unixSeconds(r.created_at) ?? -62135596800,
      model: r.model ?? '',
      system_fingerprint: 'fp_ollama',
      choices: [this.choice(r)],
      usage: usageOf(r),
    };
  }

  protected frames(r: Record<string, unknown>): string[] {
    // ToCompleteChunk stamps each chunk with time.Now(); choices come before model.
    const chunk: Record<string, unknown> = {
      id: this.id,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      choices: [this.choice(r)],
      model: r.model ?? '',
      system_fingerprint: 'fp_ollama',
      ...(this.includeUsage ? { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } } : {}),
    };
    const out = [frame(chunk)];
    if (r.done === true) {
      if (this.includeUsage) out.push(frame({ ...chunk, choices: [], usage: usageOf(r) }));
      out.push(DONE);
    }
    return out;
  }
}

function floatsToBase64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    buf.writeFloatLE(v, i * 4);
  });
  return buf.toString('base64');
}

/** /v1/embeddings (EmbedWriter + ToEmbeddingList, openai.go:474-504). */
export class EmbedWriter extends OpenAIWriter {
  /** Creates a writer echoing `model` as sent. */
  constructor(
    res: ServerResponse,
    private readonly model: string,
    private readonly encodingFormat: string,
  ) {
    super(res, false);
  }

  protected convert(r: Record<string, unknown>): Record<string, unknown> {
    if (!Array.isArray(r.embeddings)) return { object: '', data: null, model: '', usage: { prompt_tokens: 0, total_tokens: 0 } };
    const base64 = this.encodingFormat.toLowerCase() === 'base64';
    const tokens = typeof r.prompt_eval_count === 'number' ? r.prompt_eval_count : 0;
    return {
      object: 'list',
      data:
        r.embeddings.length === 0
          ? null
          : r.embeddings.map((e, index) => ({ object: 'embedding', embedding: base64 ? floatsToBase64(e as number[]) : e, index })),
      model: this.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  protected frames(): string[] {
    return [];
  }
}

/** ToListCompletion: /api/tags → /v1/models (`data` is null when no model is installed). */
export function toModelList(tags: { models: Array<Record<string, unknown>> }): Record<string, unknown> {
  const data = tags.models.map((m) => {
    const id = String(m.model || m.name);
    return { id, object: 'model', created: unixSeconds(m.modified_at) ?? 0, owned_by: parseModelName(id)?.namespace ?? '' };
  });
  return { object: 'list', data: data.length === 0 ? null : data };
}

/** ToModel: /api/show → /v1/models/:model, with the id as sent. */
export function toModel(show: Record<string, unknown>, id: string): Record<string, unknown> {
  return { id, object: 'model', created: unixSeconds(show.modified_at) ?? 0, owned_by: parseModelName(id)?.namespace ?? '' };
}
