import { ByteStream, canonicalJson, sha256Hex } from './hash.js';
import { describeModel } from './models.js';
import { normalizeModelName } from './names.js';
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

/**
 * Fields that never change the text, so they are left out of the hash: framing and residency
 * (stream, keep_alive) and logprobs, which add numbers beside the same tokens.
 */
const IGNORED_FIELDS = new Set(['stream', 'keep_alive', 'logprobs', 'top_logprobs']);

/** Go's zero values of scalar request fields: sending them is the same as leaving them out. */
const ZERO_VALUES: Record<string, unknown> = { suffix: '', system: '', template: '', raw: false, _debug_render_only: false };

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
  /** A model digest to mix into the answer (the server passes it once a model's digest was changed). */
  digest?: string;
}

/**
 * The request body as hashed: null fields, Go zero values, stream, keep_alive and logprobs
 * removed, and the model name normalised (every spelling Ollama accepts for one model agrees).
 */
export function answerKey(request: Record<string, unknown>): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) {
    if (IGNORED_FIELDS.has(k) || v === null || v === undefined || (k in ZERO_VALUES && ZERO_VALUES[k] === v)) continue;
    rest[k] = v;
  }
  if (typeof rest.model === 'string') rest.model = normalizeModelName(rest.model);
  return canonicalJson(rest);
}

/**
 * Produces the deterministic answer for a generate or chat request body (a pure function).
 * The server calls it with the request as Ollama sees it: a thinking model with `think` unset
 * gets `think: true`, so its answer is `fakeAnswer({ ...request, think: true })`.
 */
export function fakeAnswer(request: Record<string, unknown>, settings: FakeAnswerSettings = {}): FakeAnswer {
  const hash = sha256Hex(settings.digest ? `${answerKey(request)}\u0000${settings.digest}` : answerKey(request));
  const options = isRecord(request.options) ? request.options : {};
  const numPredict = typeof options.num_predict === 'number' && options.num_predict > 0 ? Math.floor(options.num_predict) : 0;
  const count = Math.min(MAX_ANSWER_TOKENS, numPredict > 0 ? numPredict : (settings.answerTokens ?? DEFAULT_ANSWER_TOKENS));
  const doneReason = numPredict > 0 ? 'length' : 'stop';

  const thinks = request.think === true || (typeof request.think === 'string' && request.think !== '');
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

/** The length of a model's embedding vectors as the fake derives it from the name (768 for nomic-embed-text). */
export function nativeEmbeddingLength(model: string): number {
  try {
    return describeModel(model).embeddingLength;
  } catch {
    return 768;
  }
}

/**
 * A deterministic, L2-normalised embedding of `input` for `model`, of the model's native length
 * unless `dimensions` asks for fewer (prefixes agree across lengths, as Ollama's truncation).
 */
export function fakeEmbedding(model: string, input: string, dimensions?: number, digest?: string): number[] {
  const raw = rawVector(model, input, dimensions ?? nativeEmbeddingLength(model), digest);
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1;
  return raw.map((x) => x / norm);
}

function rawVector(model: string, input: string, length: number, digest?: string): number[] {
  const bytes = new ByteStream(`${normalizeModelName(model)}\u0000${input}${digest ? `\u0000${digest}` : ''}`);
  const raw: number[] = [];
  for (let i = 0; i < length; i++) raw.push(bytes.next16() / 32767.5 - 1);
  return raw;
}

/**
 * The legacy /api/embeddings vector: the same direction as {@link fakeEmbedding} at full length,
 * but not normalised (Ollama's legacy handler passes the runner's raw vector through).
 */
export function fakeLegacyEmbedding(model: string, prompt: string, digest?: string): number[] {
  const unit = fakeEmbedding(model, prompt, undefined, digest);
  const scale = 10 + (new ByteStream(`${normalizeModelName(model)}\u0000${prompt}:norm`).next16() % 2000) / 100;
  return unit.map((x) => x * scale);
}

/** One token's log-probability, Ollama's `{token, logprob, bytes, top_logprobs?}` (api/types.go Logprob). */
export interface FakeLogprob {
  /** The token text. */
  token: string;
  /** Its log-probability (<= 0). */
  logprob: number;
  /** Its UTF-8 bytes. */
  bytes: number[];
  /** The most likely alternatives, the token itself first, when top_logprobs > 0. */
  top_logprobs?: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** Deterministic logprobs for one streamed piece of text (one entry, since each chunk is one token). */
export function fakeLogprobs(piece: string, seed: string, top: number): FakeLogprob[] {
  const bytes = new ByteStream(`${seed}:logprob:${piece}`);
  const entry = (token: string, logprob: number) => ({ token, logprob, bytes: [...Buffer.from(token, 'utf8')] });
  const logprob = -(bytes.next16() % 5000) / 10_000;
  const out: FakeLogprob = entry(piece, logprob);
  if (top > 0) {
    const alternatives = [entry(piece, logprob)];
    let lp = logprob;
    for (let i = 1; i < top; i++) {
      lp -= 0.5 + (bytes.next() % 100) / 50;
      alternatives.push(entry(`${WORDS[bytes.next() % WORDS.length] ?? 'the'} `, Math.round(lp * 10_000) / 10_000));
    }
    out.top_logprobs = alternatives;
  }
  return [out];
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
