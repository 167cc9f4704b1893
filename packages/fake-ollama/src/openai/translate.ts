/**
 * The OpenAI-compatible request mapping of Ollama's middleware (openai/openai.go FromChatRequest
 * and FromCompleteRequest, middleware/openai.go): OpenAI bodies become the native requests that
 * Ollama's own handlers then answer.
 */
import { isRecord } from '../answers.js';
import { base64ErrorOffset } from '../handlers/validate.js';

/** A request the translator itself refuses: answered 400 with gin's JSON framing (AbortWithStatusJSON). */
export class TranslateError extends Error {
  /** Creates the error with Ollama's message. */
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'TranslateError';
  }
}

type Want = 'string' | 'bool' | 'int' | 'float' | 'array' | 'object';

function goKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return `number ${v}`;
  return typeof v;
}

const GO_TYPE: Record<Want, string> = { string: 'string', bool: 'bool', int: 'int', float: 'float64', array: '[]', object: 'map' };

/** Checks one field's JSON type like encoding/json decoding into the Go struct. */
function expect(body: Record<string, unknown>, field: string, want: Want, struct: string, goType = GO_TYPE[want]): void {
  const v = body[field];
  if (v === undefined || v === null) return;
  const ok =
    want === 'string'
      ? typeof v === 'string'
      : want === 'bool'
        ? typeof v === 'boolean'
        : want === 'int'
          ? typeof v === 'number' && Number.isInteger(v)
          : want === 'float'
            ? typeof v === 'number'
            : want === 'array'
              ? Array.isArray(v)
              : isRecord(v);
  if (!ok) {
    const shown = typeof v === 'number' ? `number ${v}` : goKind(v);
    throw new TranslateError(`json: cannot unmarshal ${shown} into Go struct field ${struct}.${field} of type ${goType}`);
  }
}

// Go's %T of a decoded JSON value.
function goTypeOf(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'object') return 'map[string]interface {}';
  return typeof v;
}

const IMAGE_PREFIXES = ['jpeg', 'jpg', 'png', 'webp'].map((t) => `data:image/${t};base64,`);

/** decodeImageURL (openai.go): base64 data URIs only; returns the canonical base64 of the bytes. */
export function decodeImageUrl(url: string): string {
  if (url.startsWith('http://') || url.startsWith('https://')) {
    throw new TranslateError('image URLs are not currently supported, please use base64 encoded data instead');
  }
  let data: string;
  if (url.startsWith('data:;base64,')) data = url.slice('data:;base64,'.length);
  else {
    const prefix = IMAGE_PREFIXES.find((p) => url.startsWith(p));
    if (!prefix) throw new TranslateError('invalid image input');
    data = url.slice(prefix.length);
  }
  if (/[\r\n]/.test(data) || base64ErrorOffset(data) >= 0) throw new TranslateError('invalid image input');
  return Buffer.from(data, 'base64').toString('base64');
}

function toolCallsFrom(raw: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(raw)) return [];
  return raw.map((tc) => {
    const t = isRecord(tc) ? tc : {};
    const fn = isRecord(t.function) ? t.function : {};
    let args: unknown;
    try {
      args = JSON.parse(typeof fn.arguments === 'string' ? fn.arguments : '');
    } catch {
      throw new TranslateError('invalid tool call arguments');
    }
    if (args !== null && !isRecord(args)) throw new TranslateError('invalid tool call arguments');
    return {
      ...(typeof t.id === 'string' && t.id !== '' ? { id: t.id } : {}),
      function: { index: 0, name: typeof fn.name === 'string' ? fn.name : '', arguments: args ?? {} },
    };
  });
}

function nativeMessage(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { role: fields.role, content: fields.content ?? '' };
  for (const k of ['thinking', 'images', 'tool_calls', 'tool_name', 'tool_call_id']) {
    const v = fields[k];
    if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out;
}

/** reasoning effort → think (thinkFromReasoningEffort, openai.go). */
export function thinkFromReasoningEffort(effort: string): unknown {
  switch (effort) {
    case '':
      return undefined;
    case 'none':
      return false;
    case 'minimal':
      return 'low';
    case 'low':
    case 'medium':
    case 'high':
    case 'max':
      return effort;
    case 'xhigh':
    case 'ultra':
      return 'max';
    default:
      throw new TranslateError(
        `invalid reasoning value: ${JSON.stringify(effort)} (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")`,
      );
  }
}

function stopOption(stop: unknown, strict: boolean): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (!Array.isArray(stop)) return undefined;
  const out: string[] = [];
  for (const s of stop) {
    if (typeof s === 'string') out.push(s);
    else if (strict) throw new TranslateError(`invalid type for 'stop' field: ${goTypeOf(s)}`);
  }
  return out;
}

/** What the chat translator returns: the native request and the writer settings. */
export interface TranslatedChat {
  /** The native /api/chat body. */
  native: Record<string, unknown>;
  /** Whether the client asked for SSE. */
  stream: boolean;
  /** Whether a usage chunk was asked for (stream_options.include_usage). */
  includeUsage: boolean;
}

/** Translates a /v1/chat/completions body (ChatMiddleware + FromChatRequest). */
export function fromChatCompletionRequest(body: Record<string, unknown>): TranslatedChat {
  const S = 'ChatCompletionRequest';
  expect(body, 'model', 'string', S);
  expect(body, 'messages', 'array', S, '[]openai.Message');
  expect(body, 'stream', 'bool', S);
  expect(body, 'stream_options', 'object', S, 'openai.StreamOptions');
  for (const f of ['max_tokens', 'seed', 'top_logprobs']) expect(body, f, 'int', S);
  for (const f of ['temperature', 'frequency_penalty', 'presence_penalty', 'top_p']) expect(body, f, 'float', S);
  expect(body, 'response_format', 'object', S, 'openai.ResponseFormat');
  expect(body, 'tools', 'array', S, 'api.Tools');
  expect(body, 'reasoning', 'object', S, 'openai.Reasoning');
  expect(body, 'reasoning_effort', 'string', S);
  expect(body, 'logprobs', 'bool', S);
  const rawMessages = Array.isArray(body.messages) ? body.messages : [];
  if (rawMessages.length === 0) throw new TranslateError("[] is too short - 'messages'");

  const messages: Array<Record<string, unknown>> = [];
  for (const m of rawMessages) {
    const msg = isRecord(m) ? m : {};
    const role = typeof msg.role === 'string' ? msg.role : '';
    let toolName = '';
    if (role.toLowerCase() === 'tool') {
      toolName = typeof msg.name === 'string' ? msg.name : '';
      if (toolName === '' && typeof msg.tool_call_id === 'string' && msg.tool_call_id !== '') toolName = nameFromToolCallId(rawMessages, msg.tool_call_id);
    }
    const reasoning = typeof msg.reasoning === 'string' ? msg.reasoning : '';
    const toolCallId = typeof msg.tool_call_id === 'string' ? msg.tool_call_id : '';
    const content = msg.content;
    if (typeof content === 'string') {
      messages.push(
        nativeMessage({ role, content, thinking: reasoning, tool_calls: toolCallsFrom(msg.tool_calls), tool_name: toolName, tool_call_id: toolCallId }),
      );
    } else if (Array.isArray(content)) {
      for (const part of content) {
        if (!isRecord(part)) throw new TranslateError('invalid message format');
        if (part.type === 'text') {
          if (typeof part.text !== 'string') throw new TranslateError('invalid message format');
          messages.push(nativeMessage({ role, content: part.text }));
        } else if (part.type === 'image_url') {
          const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
          if (typeof url !== 'string') throw new TranslateError('invalid message format');
          messages.push(nativeMessage({ role, images: [decodeImageUrl(url)] }));
        } else if (part.type === 'input_audio') {
          const audio = part.input_audio;
          if (!isRecord(audio)) throw new TranslateError('invalid input_audio format');
          if (typeof audio.data !== 'string') throw new TranslateError('invalid input_audio format: missing data');
          const at = base64ErrorOffset(audio.data);
          if (at >= 0) throw new TranslateError(`invalid input_audio base64 data: illegal base64 data at input byte ${at}`);
          messages.push(nativeMessage({ role, images: [Buffer.from(audio.data, 'base64').toString('base64')] }));
        } else {
          throw new TranslateError('invalid message format');
        }
      }
      const last = messages.at(-1);
      if (last && Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0) {
        Object.assign(
          last,
          nativeMessage({ ...last, tool_calls: toolCallsFrom(msg.tool_calls), tool_name: toolName, tool_call_id: toolCallId, thinking: reasoning }),
        );
      }
    } else {
      if (msg.tool_calls === undefined || msg.tool_calls === null) throw new TranslateError(`invalid message content type: ${goTypeOf(content)}`);
      messages.push(nativeMessage({ role, thinking: reasoning, tool_calls: toolCallsFrom(msg.tool_calls), tool_call_id: toolCallId }));
    }
  }

  const options: Record<string, unknown> = {};
  const stop = stopOption(body.stop, false);
  if (stop) options.stop = stop;
  if (typeof body.max_tokens === 'number') options.num_predict = body.max_tokens;
  options.temperature = typeof body.temperature === 'number' ? body.temperature : 1.0;
  if (typeof body.seed === 'number') options.seed = body.seed;
  if (typeof body.frequency_penalty === 'number') options.frequency_penalty = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') options.presence_penalty = body.presence_penalty;
  options.top_p = typeof body.top_p === 'number' ? body.top_p : 1.0;

  let format: unknown;
  if (isRecord(body.response_format)) {
    const type = typeof body.response_format.type === 'string' ? body.response_format.type.trim().toLowerCase() : '';
    if (type === 'json_object') format = 'json';
    else if (type === 'json_schema' && isRecord(body.response_format.json_schema)) format = body.response_format.json_schema.schema;
  }
  const effort = isRecord(body.reasoning)
    ? typeof body.reasoning.effort === 'string'
      ? body.reasoning.effort
      : ''
    : typeof body.reasoning_effort === 'string'
      ? body.reasoning_effort
      : '';
  const think = thinkFromReasoningEffort(effort);
  const stream = body.stream === true;
  const native: Record<string, unknown> = { model: typeof body.model === 'string' ? body.model : '', messages, stream };
  if (format !== undefined && format !== null) native.format = format;
  if (Array.isArray(body.tools) && body.tools.length > 0) native.tools = body.tools;
  native.options = options;
  if (think !== undefined) native.think = think;
  if (body.logprobs === true) native.logprobs = true;
  if (typeof body.top_logprobs === 'number' && body.top_logprobs !== 0) native.top_logprobs = body.top_logprobs;
  return { native, stream, includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true };
}

function nameFromToolCallId(messages: unknown[], id: string): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isRecord(m) || !Array.isArray(m.tool_calls)) continue;
    for (const tc of m.tool_calls) {
      if (isRecord(tc) && tc.id === id && isRecord(tc.function) && typeof tc.function.name === 'string') return tc.function.name;
    }
  }
  return '';
}

/** Translates a /v1/completions body (CompletionsMiddleware + FromCompleteRequest). */
export function fromCompletionRequest(body: Record<string, unknown>): TranslatedChat {
  const S = 'CompletionRequest';
  expect(body, 'model', 'string', S);
  expect(body, 'prompt', 'string', S);
  expect(body, 'suffix', 'string', S);
  expect(body, 'stream', 'bool', S);
  expect(body, 'stream_options', 'object', S, 'openai.StreamOptions');
  for (const f of ['max_tokens', 'seed', 'logprobs']) expect(body, f, 'int', S);
  for (const f of ['temperature', 'frequency_penalty', 'presence_penalty', 'top_p']) expect(body, f, 'float', S, 'float32');
  const options: Record<string, unknown> = {};
  const stop = stopOption(body.stop, true);
  if (stop) options.stop = stop;
  if (typeof body.max_tokens === 'number') options.num_predict = body.max_tokens;
  options.temperature = typeof body.temperature === 'number' ? body.temperature : 1.0;
  if (typeof body.seed === 'number') options.seed = body.seed;
  options.frequency_penalty = typeof body.frequency_penalty === 'number' ? body.frequency_penalty : 0;
  options.presence_penalty = typeof body.presence_penalty === 'number' ? body.presence_penalty : 0;
  options.top_p = typeof body.top_p === 'number' && body.top_p !== 0 ? body.top_p : 1.0;
  const stream = body.stream === true;
  const native: Record<string, unknown> = {
    model: typeof body.model === 'string' ? body.model : '',
    prompt: typeof body.prompt === 'string' ? body.prompt : '',
    suffix: typeof body.suffix === 'string' ? body.suffix : '',
    system: '',
    template: '',
    stream,
    options,
  };
  if (typeof body.logprobs === 'number' && body.logprobs > 0) {
    native.logprobs = true;
    native.top_logprobs = body.logprobs;
  }
  return { native, stream, includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true };
}

/** What the embeddings translator returns. */
export interface TranslatedEmbed {
  /** The native /api/embed body. */
  native: Record<string, unknown>;
  /** "float" (default) or "base64", as sent. */
  encodingFormat: string;
}

/** Translates a /v1/embeddings body (EmbeddingsMiddleware). */
export function fromEmbeddingRequest(body: Record<string, unknown>): TranslatedEmbed {
  const S = 'EmbedRequest';
  expect(body, 'model', 'string', S);
  expect(body, 'dimensions', 'int', S);
  expect(body, 'encoding_format', 'string', S);
  const encodingFormat = typeof body.encoding_format === 'string' ? body.encoding_format : '';
  if (encodingFormat !== '' && !['float', 'base64'].includes(encodingFormat.toLowerCase())) {
    throw new TranslateError(`Invalid value for 'encoding_format' = ${encodingFormat}. Supported values: ['float', 'base64'].`);
  }
  let input = body.input;
  if (input === '') input = [''];
  if (input === undefined || input === null) throw new TranslateError('invalid input');
  if (Array.isArray(input) && input.length === 0) throw new TranslateError('invalid input');
  const native: Record<string, unknown> = { model: typeof body.model === 'string' ? body.model : '', input };
  if (typeof body.dimensions === 'number' && body.dimensions !== 0) native.dimensions = body.dimensions;
  return { native, encodingFormat };
}
