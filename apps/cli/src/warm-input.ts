/** A JSON object as read from a warm file. */
export type JsonObject = { [key: string]: unknown };

/** One chat message. */
export interface WarmMessage {
  /** system, user, assistant or tool. */
  role: string;
  /** The text. */
  content: string;
  /** Any other message field (images, tool_calls...). */
  [field: string]: unknown;
}

/** A generate request read from one line. */
export interface WarmGenerate {
  /** 1-based line number in the file. */
  line: number;
  /** Ollama's generate endpoint. */
  kind: 'generate';
  /** The request, in ollama-js shape (model always set). */
  request: { model: string; prompt: string; [field: string]: unknown };
}

/** A chat request read from one line. */
export interface WarmChat {
  /** 1-based line number in the file. */
  line: number;
  /** Ollama's chat endpoint. */
  kind: 'chat';
  /** The request, in ollama-js shape (model always set). */
  request: { model: string; messages: WarmMessage[]; [field: string]: unknown };
}

/** A request read from one line. */
export type WarmRequest = WarmGenerate | WarmChat;

/** A line that could not be turned into a request. */
export interface WarmLineError {
  /** 1-based line number. */
  line: number;
  /** Why, e.g. "invalid JSON: Unexpected token". */
  reason: string;
}

/** The requests and the bad lines of a warm file. */
export interface WarmInput {
  /** Good lines, in file order. */
  requests: WarmRequest[];
  /** Bad lines, in file order. */
  errors: WarmLineError[];
}

/** Defaults applied to lines that do not set them. */
export interface WarmDefaults {
  /** Model of lines without one. */
  model: string;
}

const COMMON_FIELDS = new Set(['model', 'format', 'options', 'think', 'keep_alive', 'system', 'temperature', 'max_tokens', 'seed', 'json']);
const GENERATE_FIELDS = new Set([...COMMON_FIELDS, 'prompt', 'suffix', 'template', 'context', 'raw', 'images']);
const CHAT_FIELDS = new Set([...COMMON_FIELDS, 'messages', 'tools']);

class LineError extends Error {}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkMessages(value: unknown): WarmMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new LineError('"messages" must be a non-empty array of {role, content}');
  value.forEach((message, i) => {
    if (!isObject(message) || typeof message.role !== 'string' || typeof message.content !== 'string') {
      throw new LineError(`messages[${i}] must be an object with string "role" and "content"`);
    }
  });
  return value as WarmMessage[];
}

/** Moves the shortcuts (temperature, max_tokens, seed, json) into Ollama's fields and checks their values. */
function applyShortcuts(object: JsonObject, request: JsonObject): void {
  const options: JsonObject = {};
  if (object.options !== undefined) {
    if (!isObject(object.options)) throw new LineError('"options" must be an object');
    Object.assign(options, object.options);
  }
  if (object.temperature !== undefined) {
    if (typeof object.temperature !== 'number' || !Number.isFinite(object.temperature) || object.temperature < 0) {
      throw new LineError('"temperature" must be a number >= 0');
    }
    options.temperature = object.temperature;
  }
  if (object.max_tokens !== undefined) {
    if (!Number.isInteger(object.max_tokens) || (object.max_tokens as number) < 1) throw new LineError('"max_tokens" must be a whole number >= 1');
    options.num_predict = object.max_tokens;
  }
  if (object.seed !== undefined) {
    if (!Number.isInteger(object.seed)) throw new LineError('"seed" must be a whole number');
    options.seed = object.seed;
  }
  if (Object.keys(options).length > 0) request.options = options;
  if (object.json !== undefined) {
    if (typeof object.json !== 'boolean') throw new LineError('"json" must be true or false');
    if (object.json && object.format === undefined) request.format = 'json';
  }
}

/** Turns one parsed JSON line into a request (throws LineError naming what is wrong). */
function fromObject(object: unknown, line: number, defaults: WarmDefaults): WarmRequest {
  if (!isObject(object)) throw new LineError('a JSON line must be an object such as {"prompt": "..."}');
  const chat = object.messages !== undefined;
  const allowed = chat ? CHAT_FIELDS : GENERATE_FIELDS;
  const unknown = Object.keys(object).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw new LineError(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (!chat && (typeof object.prompt !== 'string' || object.prompt.trim() === ''))
    throw new LineError('needs a non-empty "prompt" string or a "messages" array');
  if (object.model !== undefined && (typeof object.model !== 'string' || object.model.trim() === '')) throw new LineError('"model" must be a non-empty string');
  if (object.system !== undefined && typeof object.system !== 'string') throw new LineError('"system" must be a string');
  const model = (object.model as string | undefined) ?? defaults.model;
  const request: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (!['temperature', 'max_tokens', 'seed', 'json', 'options', 'system', 'messages'].includes(key)) request[key] = value;
  }
  request.model = model;
  applyShortcuts(object, request);
  if (chat) {
    const messages = checkMessages(object.messages);
    request.messages = typeof object.system === 'string' ? [{ role: 'system', content: object.system }, ...messages] : messages;
    return { line, kind: 'chat', request: request as WarmChat['request'] };
  }
  if (object.system !== undefined) request.system = object.system;
  return { line, kind: 'generate', request: request as WarmGenerate['request'] };
}

/**
 * Parses a warm file: one request per line, either a JSON object (generate fields, or chat with
 * "messages") or a plain prompt. A leading byte order mark is ignored; blank lines are skipped; a bad line becomes an error with its
 * line number, never an exception.
 */
export function parseWarmInput(text: string, defaults: WarmDefaults): WarmInput {
  const requests: WarmRequest[] = [];
  const errors: WarmLineError[] = [];
  // A UTF-8 byte order mark (Windows editors write one) is not part of the first request.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const content = rawLine.replace(/\r$/, '');
    const trimmed = content.trim();
    if (trimmed === '') return;
    if (!trimmed.startsWith('{')) {
      requests.push({ line, kind: 'generate', request: { model: defaults.model, prompt: content } });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      errors.push({ line, reason: `invalid JSON: ${(error as Error).message}` });
      return;
    }
    try {
      requests.push(fromObject(parsed, line, defaults));
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      errors.push({ line, reason: error.message });
    }
  });
  return { requests, errors };
}
