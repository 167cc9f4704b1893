import { ByteStream, canonicalJson, sha256Hex } from './hash.js';
import { normalizeModelName } from './models.js';
import { DEFAULT_ANSWER_TOKENS } from './options.js';

/** The fixed vocabulary answers are drawn from (64 words). */
export const WORDS: readonly string[] = [
  'the',
  'model',
  'answers',
  'with',
  'a',
  'small',
  'quiet',
  'cache',
  'river',
  'stone',
  'light',
  'token',
  'stream',
  'window',
  'garden',
  'signal',
  'paper',
  'orange',
  'rapid',
  'gentle',
  'north',
  'silver',
  'engine',
  'cloud',
  'forest',
  'bridge',
  'simple',
  'question',
  'number',
  'yellow',
  'market',
  'planet',
  'letter',
  'music',
  'winter',
  'summer',
  'copper',
  'velvet',
  'harbor',
  'lantern',
  'morning',
  'evening',
  'pocket',
  'ladder',
  'mirror',
  'candle',
  'meadow',
  'thunder',
  'pebble',
  'canvas',
  'compass',
  'feather',
  'honey',
  'island',
  'jungle',
  'kettle',
  'lemon',
  'marble',
  'needle',
  'ocean',
  'puzzle',
  'rocket',
  'saddle',
  'tunnel',
];

/** Fields that change framing or residency but never the text, so they are left out of the hash. */
const IGNORED_FIELDS = new Set(['stream', 'keep_alive']);

/** The largest number of words one answer may hold (caps num_predict). */
export const MAX_ANSWER_TOKENS = 100_000;

/** A tool call the fake model decided to make (the random id is added by the server). */
export interface FakeToolCall {
  /** Name of the called function (the first tool's name). */
  name: string;
  /** Deterministic arguments built from the tool's parameter schema. */
  arguments: Record<string, unknown>;
}

/** The deterministic answer for one generate/chat request. */
export interface FakeAnswer {
  /** sha256 hex of the canonical request (minus stream/keep_alive): the seed of everything else. */
  hash: string;
  /** Thinking tokens, one per chunk (empty unless `think` is enabled). */
  thinking: string[];
  /** Response tokens, one per chunk (a word plus a following space; JSON pieces in format mode). */
  tokens: string[];
  /** All thinking tokens joined. */
  thinkingText: string;
  /** All response tokens joined: exactly what `response` / `message.content` holds. */
  text: string;
  /** "length" when num_predict set the length, else "stop". */
  doneReason: 'stop' | 'length';
  /** Set when a chat request with tools asks about the weather. */
  toolCall?: FakeToolCall;
}

/** Settings that shape answers but are not part of the request. */
export interface FakeAnswerSettings {
  /** Answer length in words when the request sets no num_predict. Default 12. */
  answerTokens?: number;
}

/** The request body as hashed: stream/keep_alive removed and the model name normalised. */
export function answerKey(request: Record<string, unknown>): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) {
    if (!IGNORED_FIELDS.has(k)) rest[k] = v;
  }
  if (typeof rest.model === 'string') rest.model = normalizeModelName(rest.model);
  return canonicalJson(rest);
}

/** Produces the deterministic answer for a generate or chat request body (a pure function). */
export function fakeAnswer(request: Record<string, unknown>, settings: FakeAnswerSettings = {}): FakeAnswer {
  const hash = sha256Hex(answerKey(request));
  const options = isRecord(request.options) ? request.options : {};
  const numPredict = typeof options.num_predict === 'number' && options.num_predict > 0 ? Math.floor(options.num_predict) : 0;
  const count = Math.min(MAX_ANSWER_TOKENS, numPredict > 0 ? numPredict : (settings.answerTokens ?? DEFAULT_ANSWER_TOKENS));
  const doneReason = numPredict > 0 ? 'length' : 'stop';

  const thinks = request.think === true || (typeof request.think === 'string' && request.think !== 'none');
  const thinking = thinks ? pickWords(`${hash}:think`, Math.max(1, Math.ceil(count / 2))).map((w) => `${w} `) : [];

  const toolCall = chooseToolCall(request, hash);
  if (toolCall) {
    return { hash, thinking, tokens: [], thinkingText: thinking.join(''), text: '', doneReason: 'stop', toolCall };
  }

  const format = request.format;
  const tokens =
    format === 'json' || isRecord(format) ? jsonTokens(hash, count, isRecord(format) ? format : undefined) : pickWords(hash, count).map((w) => `${w} `);
  return { hash, thinking, tokens, thinkingText: thinking.join(''), text: tokens.join(''), doneReason };
}

/** Picks `count` words from {@link WORDS} using a seed. */
export function pickWords(seed: string, count: number): string[] {
  const bytes = new ByteStream(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(WORDS[bytes.next() % WORDS.length] ?? 'the');
  return out;
}

/** Builds a JSON object answer (following a schema's properties when given) and splits it at spaces. */
function jsonTokens(hash: string, count: number, schema: Record<string, unknown> | undefined): string[] {
  const words = pickWords(`${hash}:json`, count);
  const bytes = new ByteStream(`${hash}:values`);
  const props = schema && isRecord(schema.properties) ? Object.entries(schema.properties) : [];
  let value: Record<string, unknown>;
  if (props.length === 0) {
    value = { answer: words.join(' ') };
  } else {
    value = {};
    const stringProps = props.filter(([, p]) => !isRecord(p) || p.type === 'string' || p.type === undefined);
    const per = Math.max(1, Math.floor(words.length / Math.max(1, stringProps.length)));
    let w = 0;
    for (const [name, p] of props) {
      value[name] = valueForSchema(
        isRecord(p) ? p : {},
        () => {
          const slice = words.slice(w, w + per);
          w += per;
          return (slice.length > 0 ? slice : [words[0] ?? 'the']).join(' ');
        },
        bytes,
      );
    }
  }
  const text = JSON.stringify(value);
  return text.split(/(?<= )/);
}

function valueForSchema(schema: Record<string, unknown>, text: () => string, bytes: ByteStream): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[bytes.next() % schema.enum.length];
  switch (schema.type) {
    case 'integer':
      return bytes.next16() % 100;
    case 'number':
      return (bytes.next16() % 10_000) / 100;
    case 'boolean':
      return bytes.next() % 2 === 0;
    case 'array':
      return [text()];
    case 'object':
      return {};
    case 'null':
      return null;
    default:
      return text();
  }
}

/** A chat with tools whose final message is a user message mentioning "weather" triggers a call of the first tool. */
function chooseToolCall(request: Record<string, unknown>, hash: string): FakeToolCall | undefined {
  const tools = request.tools;
  const messages = request.messages;
  if (!Array.isArray(tools) || tools.length === 0 || !Array.isArray(messages) || messages.length === 0) return undefined;
  const last: unknown = messages[messages.length - 1];
  if (!isRecord(last) || String(last.role).toLowerCase() !== 'user' || typeof last.content !== 'string') return undefined;
  if (!/\bweather\b/i.test(last.content)) return undefined;
  const first: unknown = tools[0];
  const fn = isRecord(first) && isRecord(first.function) ? first.function : {};
  const name = typeof fn.name === 'string' ? fn.name : 'tool';
  const params = isRecord(fn.parameters) && isRecord(fn.parameters.properties) ? fn.parameters.properties : {};
  const place = /\b(?:in|for|at)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)/.exec(last.content)?.[1] ?? 'Paris';
  const bytes = new ByteStream(`${hash}:tool`);
  const args: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(params)) {
    const prop = isRecord(p) ? p : {};
    const placeLike = /location|city|place|town|where/i.test(key);
    args[key] = valueForSchema(prop, () => (placeLike ? place : (WORDS[bytes.next() % WORDS.length] ?? 'the')), bytes);
  }
  return { name, arguments: args };
}

/** A deterministic, L2-normalised embedding of `input` for `model` (prefixes agree across dimensions). */
export function fakeEmbedding(model: string, input: string, dimensions = 8): number[] {
  const bytes = new ByteStream(`${normalizeModelName(model)}\u0000${input}`);
  const raw: number[] = [];
  for (let i = 0; i < dimensions; i++) raw.push(bytes.next16() / 32767.5 - 1);
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1;
  return raw.map((x) => x / norm);
}

/** A rough token count: the number of whitespace-separated words in the prompt-like fields (at least 1). */
export function promptTokenCount(request: Record<string, unknown>): number {
  let words = 0;
  const count = (s: unknown): void => {
    if (typeof s === 'string') words += s.split(/\s+/).filter(Boolean).length;
  };
  count(request.prompt);
  count(request.system);
  count(request.suffix);
  if (Array.isArray(request.messages)) {
    for (const m of request.messages) if (isRecord(m)) count(m.content);
  }
  if (Array.isArray(request.context)) words += request.context.length;
  return Math.max(1, words);
}

/** Deterministic token ids returned as `context` by /api/generate. */
export function fakeContext(hash: string, length: number): number[] {
  const bytes = new ByteStream(`${hash}:context`);
  const out: number[] = [];
  for (let i = 0; i < Math.min(length, 4096); i++) out.push(bytes.next16() % 32000);
  return out;
}

/** True for plain objects (not arrays, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
