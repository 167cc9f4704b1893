/**
 * The catalogue of hostile requests: one row per case, run against a live proxy (its own process,
 * API keys on, a memory cache) in front of the fake Ollama by test/hostile-input.test.ts, and
 * listed in docs/security.md (a test checks that the two agree). Each row says what is sent, the
 * status expected (or that the connection is closed without an answer), and how many cache
 * entries it may leave (0 for every refused or failed request). After every case the runner also
 * checks that nothing leaked (no key, no stack trace, no path of the machine in the answer; no key
 * and no prompt in the proxy's log) and that the proxy still answers.
 */
import type { KeysConfig } from '../../src/index.js';
import { type RawExchange, rawRequest, type Step } from './raw-http.js';

/** The keys of the catalogue's proxy. */
export const KEY_A = 'tk-hostile-team-a-0123456789';
export const KEY_B = 'tk-hostile-team-b-0123456789';
export const KEY_ADMIN = 'tk-hostile-admin-0123456789';
export const CATALOGUE_KEYS: KeysConfig = {
  keys: [
    { key: KEY_A, tenant: 'team-a' },
    { key: KEY_B, tenant: 'team-b' },
    { key: KEY_ADMIN, tenant: 'ops', role: 'admin' },
  ],
};
/** The body limit of the catalogue's proxy (so a 100 MB body is refused at 16 MiB). */
export const CATALOGUE_BODY_LIMIT = 16 * 1024 * 1024;
/** A marker every catalogue prompt carries: it must never appear in the proxy's log. */
export const PROMPT_MARKER = 'hostile-prompt-marker';

const MODEL = 'qwen2.5:0.5b';

/** What a case expects. */
export interface Expectation {
  /** The status of each response, in order (one for most cases); [] with `closed` for a connection cut without an answer. */
  statuses: readonly number[];
  /** The proxy closes the connection (after the answers, if any). */
  closed?: boolean;
  /** Cache entries the case leaves (0 for anything refused or failed). @default 0 */
  stores?: number;
  /** More checks on what came back. */
  check?: (exchange: RawExchange) => void;
}

/** One hostile request. */
export interface HostileCase {
  /** Stable id, listed in docs/security.md. */
  readonly id: string;
  /** The family of the case. */
  readonly group: string;
  /** What is sent, in a few words. */
  readonly what: string;
  /** What happens (for the docs). */
  readonly outcome: string;
  /** The bytes (and pauses, resets) to send. */
  readonly steps: readonly Step[];
  readonly expect: Expectation;
  /** How long the client waits for the server to close, in ms. @default 10000 */
  readonly deadlineMs?: number;
  /** Waits for the fake Ollama to be idle before counting entries (an answer still being recorded). */
  readonly settle?: boolean;
  /** Streamed answers arrive at this many tokens a second during the case (default: no pacing). */
  readonly tokensPerSecond?: number;
}

type Headers = ReadonlyArray<readonly [string, string]>;

const auth = (key = KEY_A): readonly [string, string] => ['Authorization', `Bearer ${key}`];

/** A POST with a JSON (or any) body, Content-Length framing, Connection: close. */
function post(path: string, body: string | Buffer, headers: Headers = [], key: string | null = KEY_A): Buffer {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const base: Array<readonly [string, string]> = [
    ['Host', 'proxy.test'],
    ['Content-Type', 'application/json'],
    ['Content-Length', String(length)],
    ['Connection', 'close'],
  ];
  if (key !== null) base.push(auth(key));
  return rawRequest('POST', path, [...base, ...headers], body);
}

const json = (value: Record<string, unknown>): string =>
  JSON.stringify({ model: MODEL, stream: false, ...value, prompt: value.prompt ?? `${PROMPT_MARKER} ${Object.keys(value).join(' ')}` });
const generate = (fields: Record<string, unknown>, headers: Headers = []): Buffer => post('/api/generate', json(fields), headers);
const chat = (fields: Record<string, unknown>): Buffer =>
  post('/api/chat', JSON.stringify({ model: MODEL, stream: false, messages: [{ role: 'user', content: PROMPT_MARKER }], ...fields }));
const get = (path: string, headers: Headers = [], key: string | null = KEY_A): Buffer =>
  rawRequest('GET', path, [['Host', 'proxy.test'], ['Connection', 'close'], ...(key === null ? [] : [auth(key)]), ...headers]);
const nested = (depth: number, open: string, close: string): string => `${open.repeat(depth)}1${close.repeat(depth)}`;

const ok = (stores = 0): Expectation => ({ statuses: [200], stores });
const status = (code: number, closed = false): Expectation => ({ statuses: [code], closed });
const cut: Expectation = { statuses: [], closed: true };
/** The client itself went away: no answer, nothing stored. */
const gone: Expectation = { statuses: [] };
const cacheStatus = (expected: string) => (x: RawExchange) => expectEqual(x.responses[0]?.headers['x-cache'], expected);

/** The catalogue. */
export const CATALOGUE: readonly HostileCase[] = [
  // Malformed JSON bodies on a cached route: passed to Ollama untouched, never cached.
  {
    id: 'json-truncated',
    group: 'JSON',
    what: 'a body cut off mid-object',
    outcome: 'passed to Ollama (400), not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}"`)],
    expect: status(400),
  },
  {
    id: 'json-garbage',
    group: 'JSON',
    what: 'a body that is not JSON',
    outcome: 'passed to Ollama (400), not cached',
    steps: [post('/api/generate', `${PROMPT_MARKER} not json`)],
    expect: status(400),
  },
  {
    id: 'json-empty',
    group: 'JSON',
    what: 'an empty body',
    outcome: 'passed to Ollama (400), not cached',
    steps: [post('/api/generate', '')],
    expect: status(400),
  },
  {
    id: 'json-null',
    group: 'JSON',
    what: 'the body `null`',
    outcome: 'passed to Ollama (404: no model), not cached',
    steps: [post('/api/generate', 'null')],
    expect: status(404),
  },
  {
    id: 'json-array',
    group: 'JSON',
    what: 'a JSON array',
    outcome: 'passed to Ollama (400), not cached',
    steps: [post('/api/generate', '[]')],
    expect: status(400),
  },
  {
    id: 'json-string',
    group: 'JSON',
    what: 'a JSON string',
    outcome: 'passed to Ollama (400), not cached',
    steps: [post('/api/generate', '"hello"')],
    expect: status(400),
  },
  {
    id: 'json-trailing',
    group: 'JSON',
    what: 'an object followed by garbage',
    outcome: 'passed to Ollama untouched (Go reads the first value), not cached',
    steps: [post('/api/generate', `${json({})} trailing`)],
    expect: status(400),
  },
  {
    id: 'json-bom',
    group: 'JSON',
    what: 'a byte-order mark before the object',
    outcome: 'passed to Ollama untouched, not cached',
    steps: [post('/api/generate', `\ufeff${json({})}`)],
    expect: status(400),
  },
  {
    id: 'json-deep-arrays',
    group: 'JSON',
    what: 'arrays nested 100,000 deep in options',
    outcome: 'too deep to key: passed to Ollama untouched (it refuses it), not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}","stream":false,"options":{"stop":${nested(100_000, '[', ']')}}}`)],
    expect: { ...status(500), check: cacheStatus('BYPASS') },
  },
  {
    id: 'json-deep-objects',
    group: 'JSON',
    what: 'objects nested 100,000 deep in format',
    outcome: 'too deep to key: passed to Ollama untouched (it refuses it), not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}","stream":false,"format":${nested(100_000, '{"a":', '}')}}`)],
    expect: { ...status(500), check: cacheStatus('BYPASS') },
  },
  {
    id: 'json-duplicate-field',
    group: 'JSON',
    what: 'the same field twice (prompt)',
    outcome: 'keyed on the last value, as Ollama reads it; answered and cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"first","prompt":"${PROMPT_MARKER} dup"}`)],
    expect: ok(1),
  },

  // Wrong types for every field the key reads: Ollama refuses them; nothing is cached.
  {
    id: 'type-model-number',
    group: 'types',
    what: '`model` a number',
    outcome: 'not keyable: passed to Ollama (400)',
    steps: [post('/api/generate', `{"model":123,"prompt":"${PROMPT_MARKER}"}`)],
    expect: status(400),
  },
  {
    id: 'type-model-empty',
    group: 'types',
    what: '`model` empty',
    outcome: 'not keyable: passed to Ollama (404)',
    steps: [post('/api/generate', `{"model":"","prompt":"${PROMPT_MARKER}"}`)],
    expect: status(404),
  },
  {
    id: 'type-model-object',
    group: 'types',
    what: '`model` an object',
    outcome: 'not keyable: passed to Ollama (400)',
    steps: [post('/api/generate', `{"model":{"name":"x"},"prompt":"${PROMPT_MARKER}"}`)],
    expect: status(400),
  },
  {
    id: 'type-prompt-object',
    group: 'types',
    what: '`prompt` an object',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ prompt: { text: PROMPT_MARKER } })],
    expect: status(400),
  },
  {
    id: 'type-prompt-number',
    group: 'types',
    what: '`prompt` a number',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ prompt: 42 })],
    expect: status(400),
  },
  {
    id: 'type-system-array',
    group: 'types',
    what: '`system` an array',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ system: ['a'] })],
    expect: status(400),
  },
  {
    id: 'type-suffix-bool',
    group: 'types',
    what: '`suffix` a boolean',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ suffix: true })],
    expect: status(400),
  },
  {
    id: 'type-template-number',
    group: 'types',
    what: '`template` a number',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ template: 1 })],
    expect: status(400),
  },
  {
    id: 'type-raw-string',
    group: 'types',
    what: '`raw` a string',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ raw: 'true' })],
    expect: status(400),
  },
  {
    id: 'type-stream-string',
    group: 'types',
    what: '`stream` a string',
    outcome: 'passed to Ollama unkeyed (the fake streams it; Ollama 400s), never cached',
    steps: [generate({ stream: 'yes' })],
    expect: { ...ok(0), check: cacheStatus('BYPASS') },
  },
  {
    id: 'type-context-strings',
    group: 'types',
    what: '`context` of strings',
    outcome: "Ollama's answer passed on (the fake answers; Ollama 400s), cached only when answered",
    steps: [generate({ context: ['a', 'b'] })],
    expect: ok(1),
  },
  {
    id: 'type-images-numbers',
    group: 'types',
    what: '`images` of numbers',
    outcome: 'not keyable (not base64 or bytes): passed to Ollama (400)',
    steps: [generate({ images: [1, 2] })],
    expect: status(400),
  },
  {
    id: 'type-images-string',
    group: 'types',
    what: '`images` a string',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ images: 'aGk=' })],
    expect: status(400),
  },
  {
    id: 'type-images-not-base64',
    group: 'types',
    what: '`images` not base64',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ images: ['%%% not base64 %%%'] })],
    expect: status(400),
  },
  {
    id: 'type-format-number',
    group: 'types',
    what: '`format` a number',
    outcome: 'Ollama: 500 (invalid format), not cached',
    steps: [generate({ format: 42 })],
    expect: status(500),
  },
  {
    id: 'type-think-string',
    group: 'types',
    what: '`think` an unknown level',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ think: 'maybe' })],
    expect: status(400),
  },
  {
    id: 'type-keep-alive-object',
    group: 'types',
    what: '`keep_alive` an object',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ keep_alive: { a: 1 } })],
    expect: status(400),
  },
  {
    id: 'type-options-array',
    group: 'types',
    what: '`options` an array',
    outcome: 'Ollama: 400, not cached',
    steps: [generate({ options: [1] })],
    expect: status(400),
  },
  {
    id: 'type-option-string',
    group: 'types',
    what: '`options.temperature` a string',
    outcome: 'Ollama: 500 (option type), not cached',
    steps: [generate({ options: { temperature: 'hot' } })],
    expect: status(500),
  },
  {
    id: 'type-messages-string',
    group: 'types',
    what: 'chat `messages` a string',
    outcome: 'Ollama: 400, not cached',
    steps: [chat({ messages: 'hi' })],
    expect: status(400),
  },
  {
    id: 'type-message-role-number',
    group: 'types',
    what: 'a message whose `role` is a number',
    outcome: "Ollama's answer passed on (the fake answers; Ollama 400s), cached only when answered",
    steps: [chat({ messages: [{ role: 1, content: PROMPT_MARKER }] })],
    expect: ok(1),
  },
  {
    id: 'type-message-content-object',
    group: 'types',
    what: 'a message whose `content` is an object',
    outcome: "Ollama's answer passed on (the fake answers; Ollama 400s), cached only when answered",
    steps: [chat({ messages: [{ role: 'user', content: { a: PROMPT_MARKER } }] })],
    expect: ok(1),
  },
  {
    id: 'type-tools-object',
    group: 'types',
    what: 'chat `tools` an object',
    outcome: 'Ollama: 400, not cached',
    steps: [chat({ tools: { a: 1 } })],
    expect: status(400),
  },
  {
    id: 'type-embed-input-number',
    group: 'types',
    what: 'embed `input` a number',
    outcome: 'Ollama: 400, not cached',
    steps: [post('/api/embed', JSON.stringify({ model: 'nomic-embed-text', input: 5 }))],
    expect: status(400),
  },

  // Numbers.
  {
    id: 'number-1e309',
    group: 'numbers',
    what: '`temperature: 1e309` (Infinity in JavaScript)',
    outcome: 'not keyable (no key tells it from null): passed to Ollama untouched, not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}","stream":false,"options":{"temperature":1e309}}`)],
    expect: { ...ok(0), check: cacheStatus('BYPASS') },
  },
  {
    id: 'number-minus-1e309',
    group: 'numbers',
    what: '`seed: -1e309`',
    outcome: 'not keyable: passed to Ollama untouched, not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}","stream":false,"options":{"seed":-1e309}}`)],
    expect: { ...ok(0), check: cacheStatus('BYPASS') },
  },
  {
    id: 'number-minus-zero',
    group: 'numbers',
    what: '`temperature: -0`',
    outcome: 'the same key as `temperature: 0` (Ollama reads them alike); answered and cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER} minus zero","stream":false,"options":{"temperature":-0}}`)],
    expect: ok(1),
  },
  {
    id: 'number-nan',
    group: 'numbers',
    what: 'a bare `NaN`',
    outcome: 'not JSON: passed to Ollama (400), not cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER}","options":{"temperature":NaN}}`)],
    expect: status(400),
  },

  // Encodings.
  {
    id: 'utf8-invalid',
    group: 'encoding',
    what: 'invalid UTF-8 in the prompt',
    outcome: 'not keyable faithfully (decoders differ on invalid bytes): passed to Ollama, not cached',
    steps: [
      post(
        '/api/generate',
        Buffer.concat([
          Buffer.from(`{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} `),
          Buffer.from([0xe2, 0x82, 0x41, 0xff]),
          Buffer.from('"}'),
        ]),
      ),
    ],
    expect: { ...ok(0), check: cacheStatus('BYPASS') },
  },
  {
    id: 'utf8-overlong',
    group: 'encoding',
    what: 'an overlong UTF-8 slash in the prompt',
    outcome: 'passed to Ollama, not cached',
    steps: [
      post(
        '/api/generate',
        Buffer.concat([Buffer.from(`{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} `), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
      ),
    ],
    expect: { ...ok(0), check: cacheStatus('BYPASS') },
  },
  {
    id: 'utf16-lone-surrogate',
    group: 'encoding',
    what: 'a lone surrogate escape `\\ud800`',
    outcome: 'keyed as sent; answered and cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} \\ud800"}`)],
    expect: ok(1),
  },
  {
    id: 'nul-escaped',
    group: 'encoding',
    what: 'an escaped NUL `\\u0000` in the prompt',
    outcome: 'answered and cached',
    steps: [post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} \\u0000 nul"}`)],
    expect: ok(1),
  },
  {
    id: 'nul-raw',
    group: 'encoding',
    what: 'a raw NUL byte inside a string',
    outcome: 'not JSON: passed to Ollama (400), not cached',
    steps: [post('/api/generate', Buffer.concat([Buffer.from(`{"model":"${MODEL}","prompt":"${PROMPT_MARKER} `), Buffer.from([0]), Buffer.from('"}')]))],
    expect: status(400),
  },

  // Prototype keys: answered and cached like any field, and no object of the proxy is touched.
  {
    id: 'proto-top',
    group: 'prototype',
    what: '`__proto__: {"polluted": true}` at the top level',
    outcome: 'a field like any other; answered and cached; no prototype touched',
    steps: [post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} proto","__proto__":{"polluted":true}}`)],
    expect: ok(1),
  },
  {
    id: 'proto-constructor',
    group: 'prototype',
    what: '`constructor: {"prototype": {"polluted": true}}`',
    outcome: 'answered and cached; no prototype touched',
    steps: [post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} ctor","constructor":{"prototype":{"polluted":true}}}`)],
    expect: ok(1),
  },
  {
    id: 'proto-options',
    group: 'prototype',
    what: '`options.__proto__`',
    outcome: 'answered and cached; no prototype touched',
    steps: [
      post('/api/generate', `{"model":"${MODEL}","stream":false,"prompt":"${PROMPT_MARKER} opts","options":{"__proto__":{"polluted":true},"temperature":0}}`),
    ],
    expect: ok(1),
  },
  {
    id: 'proto-message',
    group: 'prototype',
    what: 'a chat message with `__proto__`',
    outcome: 'answered and cached; no prototype touched',
    steps: [
      post('/api/chat', `{"model":"${MODEL}","stream":false,"messages":[{"role":"user","content":"${PROMPT_MARKER} msg","__proto__":{"polluted":true}}]}`),
    ],
    expect: ok(1),
  },
  {
    id: 'proto-streamed',
    group: 'prototype',
    what: '`__proto__` in a streamed request',
    outcome: 'answered and cached; no prototype touched',
    steps: [post('/api/generate', `{"model":"${MODEL}","prompt":"${PROMPT_MARKER} streamed","__proto__":{"polluted":true},"prototype":{"x":1}}`)],
    expect: ok(1),
  },

  // Sizes.
  {
    id: 'size-declared-100mb',
    group: 'size',
    what: 'Content-Length: 100 MB (the body never sent)',
    outcome: '413 at once, connection closed, nothing read',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Content-Length', String(100 * 1024 * 1024)]])],
    expect: status(413, true),
  },
  {
    id: 'size-chunked-100mb',
    group: 'size',
    what: 'a 100 MB chunked body',
    outcome: '413 once the limit is passed, connection closed',
    steps: [
      rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Transfer-Encoding', 'chunked']]),
      ...Array.from({ length: 100 }, () => Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(0x100000, 0x61), Buffer.from('\r\n')])),
    ],
    expect: status(413, true),
    deadlineMs: 30_000,
  },
  {
    id: 'size-just-over',
    group: 'size',
    what: 'a chunked body one byte over the limit',
    outcome: '413 at the byte that passes the limit, connection closed',
    steps: [
      rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Transfer-Encoding', 'chunked']]),
      Buffer.concat([Buffer.from(`${CATALOGUE_BODY_LIMIT.toString(16)}\r\n`), Buffer.alloc(CATALOGUE_BODY_LIMIT, 0x20), Buffer.from('\r\n1\r\n \r\n')]),
      { waitForBytes: 12 },
      '0\r\n\r\n',
    ],
    expect: status(413, true),
    deadlineMs: 30_000,
  },
  {
    id: 'size-large-prompt',
    group: 'size',
    what: 'a 4 MB prompt (under the limit)',
    outcome: 'answered and cached',
    steps: [post('/api/generate', JSON.stringify({ model: MODEL, stream: false, prompt: `${PROMPT_MARKER} ${'x'.repeat(4 * 1024 * 1024)}` }))],
    expect: ok(1),
    deadlineMs: 30_000,
  },

  // Namespaces: only names a tenant can own inside its own namespace.
  {
    id: 'ns-slash',
    group: 'namespace',
    what: 'X-TinyLLM-Namespace `a/b`',
    outcome: '400 naming the header',
    steps: [generate({}, [['X-TinyLLM-Namespace', 'a/b']])],
    expect: status(400),
  },
  {
    id: 'ns-dotdot',
    group: 'namespace',
    what: 'X-TinyLLM-Namespace `..`',
    outcome: '400',
    steps: [generate({}, [['X-TinyLLM-Namespace', '..']])],
    expect: status(400),
  },
  {
    id: 'ns-encoded-slash',
    group: 'namespace',
    what: 'X-TinyLLM-Namespace `%2F`',
    outcome: '400',
    steps: [generate({}, [['X-TinyLLM-Namespace', '%2F']])],
    expect: status(400),
  },
  {
    id: 'ns-control',
    group: 'namespace',
    what: 'X-TinyLLM-Namespace with a control character',
    outcome: '400',
    steps: [generate({}, [['X-TinyLLM-Namespace', 'a\x01b']])],
    expect: status(400, true),
  },
  {
    id: 'ns-10kb',
    group: 'namespace',
    what: 'X-TinyLLM-Namespace of 10 kB',
    outcome: '400, the name cut short in the message',
    steps: [generate({}, [['X-TinyLLM-Namespace', 'a'.repeat(10_240)]])],
    expect: { ...status(400), check: (x) => expectSmall(x, 1024) },
  },
  {
    id: 'ns-other-tenant',
    group: 'namespace',
    what: "X-TinyLLM-Namespace `team-b:x` (another tenant's form)",
    outcome: '400: names cannot hold the tenant separator',
    steps: [generate({}, [['X-TinyLLM-Namespace', 'team-b:x']])],
    expect: status(400),
  },
  {
    id: 'ns-path-dotdot',
    group: 'namespace',
    what: 'path `/ns/../api/generate`',
    outcome: '400',
    steps: [post('/ns/../api/generate', json({}))],
    expect: status(400),
  },
  {
    id: 'ns-path-encoded',
    group: 'namespace',
    what: 'path `/ns/%2F/api/generate`',
    outcome: '400',
    steps: [post('/ns/%2F/api/generate', json({}))],
    expect: status(400),
  },
  {
    id: 'ns-path-empty',
    group: 'namespace',
    what: 'path `/ns//api/generate`',
    outcome: '400',
    steps: [post('/ns//api/generate', json({}))],
    expect: status(400),
  },
  {
    id: 'ns-path-nul',
    group: 'namespace',
    what: 'path `/ns/a%00b/api/generate`',
    outcome: '400',
    steps: [post('/ns/a%00b/api/generate', json({}))],
    expect: status(400),
  },
  {
    id: 'ns-path-separator',
    group: 'namespace',
    what: 'path `/ns/team-b:x/api/generate`',
    outcome: '400',
    steps: [post('/ns/team-b:x/api/generate', json({}))],
    expect: status(400),
  },
  {
    id: 'ns-disagree',
    group: 'namespace',
    what: 'header and path name two namespaces',
    outcome: '400',
    steps: [post('/ns/one/api/generate', json({}), [['X-TinyLLM-Namespace', 'two']])],
    expect: status(400),
  },

  // Headers.
  {
    id: 'header-bare-cr',
    group: 'headers',
    what: 'a bare CR inside a header value',
    outcome: '400 from the HTTP parser, connection closed',
    steps: [generate({}, [['X-TinyLLM-Namespace', 'a\rX-Injected: 1']])],
    expect: status(400, true),
  },
  {
    id: 'header-nul',
    group: 'headers',
    what: 'a NUL inside a header value',
    outcome: '400 from the HTTP parser',
    steps: [generate({}, [['X-TinyLLM-TTL', '60\0']])],
    expect: status(400, true),
  },
  {
    id: 'header-obs-fold',
    group: 'headers',
    what: 'a folded (obs-fold) header line',
    outcome: '400 from the HTTP parser',
    steps: [generate({}, [['Cache-Control', 'no-cache\r\n  no-store']])],
    expect: status(400, true),
  },
  {
    id: 'header-name-space',
    group: 'headers',
    what: 'a space inside a header name',
    outcome: '400 from the HTTP parser',
    steps: [generate({}, [['X TinyLLM', '1']])],
    expect: status(400, true),
  },
  {
    id: 'header-huge',
    group: 'headers',
    what: '20 kB of headers',
    outcome: '431, connection closed',
    steps: [generate({}, [['X-Big', 'b'.repeat(20_000)]])],
    expect: status(431, true),
  },
  {
    id: 'header-bad-ttl',
    group: 'headers',
    what: 'X-TinyLLM-TTL `-1`',
    outcome: '400 naming the header',
    steps: [generate({}, [['X-TinyLLM-TTL', '-1']])],
    expect: status(400),
  },
  {
    id: 'header-bad-cache-control',
    group: 'headers',
    what: 'Cache-Control `max-age=1e9x`',
    outcome: '400 naming the header',
    steps: [generate({}, [['Cache-Control', 'max-age=1e9x']])],
    expect: status(400),
  },
  {
    id: 'target-absolute',
    group: 'headers',
    what: 'an absolute-form target `http://evil.example/api/tags`',
    outcome: 'routed by its path, as Ollama does: never another host',
    steps: [get('http://evil.example/api/tags')],
    expect: { ...ok(0), check: (x) => expectEqual(typeof JSON.parse(x.responses[0]?.body.toString() ?? '{}').models, 'object') },
  },
  {
    id: 'target-absolute-generate',
    group: 'headers',
    what: 'an absolute-form `POST http://x/api/generate`',
    outcome: 'a cached route like any other (keys, cache and generation bound apply)',
    steps: [post('http://x/api/generate', json({ prompt: `${PROMPT_MARKER} absolute` }))],
    expect: { ...ok(1), check: cacheStatus('MISS') },
  },
  {
    id: 'target-asterisk',
    group: 'headers',
    what: '`OPTIONS *`',
    outcome: '400',
    steps: [rawRequest('OPTIONS', '*', [['Host', 'p'], auth(), ['Connection', 'close']])],
    expect: status(400),
  },
  {
    id: 'method-unknown',
    group: 'headers',
    what: 'an unknown method `FOO`',
    outcome: '400 from the HTTP parser',
    steps: [rawRequest('FOO', '/api/tags', [['Host', 'p'], auth()])],
    expect: status(400, true),
  },
  {
    id: 'http11-no-host',
    group: 'headers',
    what: 'HTTP/1.1 without Host',
    outcome: '400 from the HTTP parser',
    steps: [Buffer.from(`GET /api/tags HTTP/1.1\r\nAuthorization: Bearer ${KEY_A}\r\n\r\n`)],
    expect: status(400, true),
  },
  { id: 'expect-unknown', group: 'headers', what: 'Expect: `teapot`', outcome: '417', steps: [generate({}, [['Expect', 'teapot']])], expect: status(417) },

  // Framing: request smuggling and pipelining.
  {
    id: 'frame-cl-and-te',
    group: 'framing',
    what: 'both Content-Length and Transfer-Encoding',
    outcome: '400, connection closed',
    steps: [
      rawRequest(
        'POST',
        '/api/generate',
        [['Host', 'p'], auth(), ['Content-Length', '4'], ['Transfer-Encoding', 'chunked']],
        '0\r\n\r\nGET /api/tags HTTP/1.1\r\nHost: p\r\n\r\n',
      ),
    ],
    expect: status(400, true),
  },
  {
    id: 'frame-two-lengths',
    group: 'framing',
    what: 'two different Content-Length headers',
    outcome: '400, connection closed',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Content-Length', '2'], ['Content-Length', '20']], '{}')],
    expect: status(400, true),
  },
  {
    id: 'frame-te-unknown',
    group: 'framing',
    what: 'Transfer-Encoding `gzip` only',
    outcome: '400, connection closed',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Transfer-Encoding', 'gzip']], '{}')],
    expect: status(400, true),
  },
  {
    id: 'frame-bad-chunk',
    group: 'framing',
    what: 'a chunk size that is not hex',
    outcome: '400, connection closed',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Transfer-Encoding', 'chunked']], 'zz\r\nabc\r\n0\r\n\r\n')],
    expect: status(400, true),
  },
  {
    id: 'frame-chunk-overflow',
    group: 'framing',
    what: 'a chunk size beyond 2^64',
    outcome: '400, connection closed',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Transfer-Encoding', 'chunked']], 'fffffffffffffffffffff\r\nabc\r\n')],
    expect: status(400, true),
  },
  {
    id: 'frame-short-body',
    group: 'framing',
    what: 'a Content-Length larger than the body, then the client closes',
    outcome: '400 (incomplete request), connection closed, nothing stored',
    steps: [
      rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Content-Length', '1000']], `{"model":"${MODEL}"`),
      { pauseMs: 100 },
      { endWrite: true },
    ],
    expect: status(400, true),
  },
  {
    id: 'pipelined',
    group: 'framing',
    what: 'a miss, the same request again and a pass-through, pipelined in one write',
    outcome: 'three answers in order: a miss, the same answer again (joined or from the cache), the tags',
    steps: [
      Buffer.concat([
        rawRequest(
          'POST',
          '/api/generate',
          [['Host', 'p'], auth(), ['Content-Length', String(Buffer.byteLength(json({ prompt: `${PROMPT_MARKER} pipelined` })))]],
          json({ prompt: `${PROMPT_MARKER} pipelined` }),
        ),
        rawRequest(
          'POST',
          '/api/generate',
          [['Host', 'p'], auth(), ['Content-Length', String(Buffer.byteLength(json({ prompt: `${PROMPT_MARKER} pipelined` })))]],
          json({ prompt: `${PROMPT_MARKER} pipelined` }),
        ),
        get('/api/tags'),
      ]),
    ],
    expect: {
      statuses: [200, 200, 200],
      stores: 1,
      check: (x) => {
        expectEqual(x.responses[0]?.headers['x-cache'], 'MISS');
        expectEqual(['HIT', 'COALESCED'].includes(x.responses[1]?.headers['x-cache'] ?? ''), true);
        expectEqual(JSON.parse(x.responses[1]?.body.toString() ?? '{}').response, JSON.parse(x.responses[0]?.body.toString() ?? '{}').response);
        expectEqual(typeof JSON.parse(x.responses[2]?.body.toString() ?? '{}').models, 'object');
      },
    },
  },
  {
    id: 'pipelined-bad-middle',
    group: 'framing',
    what: 'a pipelined request with a malformed one in the middle',
    outcome: 'the first is answered whole, then the connection closes (no error bytes inside an answer)',
    steps: [
      Buffer.concat([
        rawRequest('GET', '/api/version', [['Host', 'p'], auth()]),
        Buffer.from('GET /api/tags HTTP/1.1\r\nHost: p\r\nBad Header\r\n\r\n'),
        get('/api/tags'),
      ]),
    ],
    expect: { statuses: [200], closed: true, check: (x) => expectEqual(x.raw.toString('latin1').includes('400 Bad Request'), false) },
  },
  {
    id: 'pipelined-bad-while-streaming',
    group: 'framing',
    what: 'a malformed request pipelined while a streamed answer is being written',
    outcome: 'the streamed answer ends whole (done: true), then the connection closes; nothing written inside it',
    steps: [
      rawRequest(
        'POST',
        '/api/generate',
        [
          ['Host', 'p'],
          auth(),
          ['Content-Length', String(Buffer.byteLength(JSON.stringify({ model: MODEL, prompt: `${PROMPT_MARKER} streamed`, options: { num_predict: 30 } })))],
        ],
        JSON.stringify({ model: MODEL, prompt: `${PROMPT_MARKER} streamed`, options: { num_predict: 30 } }),
      ),
      { waitForBytes: 300 },
      'GET /api/tags HTTP/1.1\r\nBad Header\r\n\r\n',
    ],
    tokensPerSecond: 100,
    settle: true,
    expect: {
      statuses: [200],
      closed: true,
      stores: 1,
      check: (x) => {
        const lines = x.responses[0]?.body.toString().trim().split('\n') ?? [];
        expectEqual(JSON.parse(lines.at(-1) ?? '{}').done, true);
        expectEqual(x.raw.toString('latin1').includes('400 Bad Request'), false);
      },
    },
  },

  // Slow and broken connections.
  {
    id: 'slow-headers',
    group: 'connection',
    what: 'headers trickled a byte at a time past the header deadline',
    outcome: '408, connection closed',
    steps: ['POST /api/generate HTTP/1.1\r\n', ...Array.from({ length: 30 }, () => [{ pauseMs: 100 }, 'X']).flat()],
    expect: status(408, true),
    deadlineMs: 8000,
  },
  {
    id: 'slow-body',
    group: 'connection',
    what: 'a body that stops arriving',
    outcome: 'connection closed after the idle deadline, nothing stored',
    steps: [rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Content-Length', '100']], `{"model":"${MODEL}",`), { pauseMs: 3000 }],
    expect: cut,
    deadlineMs: 8000,
  },
  {
    id: 'reset-mid-request',
    group: 'connection',
    what: 'a reset halfway through the body',
    outcome: 'nothing answered, nothing stored',
    steps: [
      rawRequest('POST', '/api/generate', [['Host', 'p'], auth(), ['Content-Length', '200']], `{"model":"${MODEL}","prompt":"`),
      { pauseMs: 50 },
      { reset: true },
    ],
    expect: gone,
  },
  {
    id: 'reset-mid-answer',
    group: 'connection',
    what: 'a reset while a slow streamed answer arrives',
    outcome: 'the generation is stopped, nothing stored',
    steps: [
      post('/api/generate', JSON.stringify({ model: MODEL, prompt: `${PROMPT_MARKER} reset`, options: { num_predict: 400 } })),
      { waitForBytes: 400 },
      { reset: true },
    ],
    expect: { statuses: [200] },
    settle: true,
    tokensPerSecond: 100,
  },
  {
    id: 'never-reads',
    group: 'connection',
    what: 'a client that never reads a large streamed answer',
    outcome: 'backpressure holds its copy; the whole answer is still recorded (once), then the client leaves',
    steps: [
      post('/api/generate', JSON.stringify({ model: MODEL, prompt: `${PROMPT_MARKER} never reads`, options: { num_predict: 20_000 } })),
      { hook: 'stored' },
      { reset: true },
    ],
    expect: { statuses: [200], stores: 1 },
    settle: true,
  },

  // Keys and tenants.
  {
    id: 'auth-missing',
    group: 'auth',
    what: 'no Authorization header',
    outcome: '401',
    steps: [post('/api/generate', json({}), [], null)],
    expect: status(401, true),
  },
  {
    id: 'auth-basic',
    group: 'auth',
    what: 'Basic credentials holding a valid key',
    outcome: '401',
    steps: [post('/api/generate', json({}), [['Authorization', `Basic ${Buffer.from(`u:${KEY_A}`).toString('base64')}`]], null)],
    expect: status(401, true),
  },
  {
    id: 'auth-wrong-key',
    group: 'auth',
    what: 'a key one character off',
    outcome: '401',
    steps: [post('/api/generate', json({}), [], `${KEY_A.slice(0, -1)}x`)],
    expect: status(401, true),
  },
  {
    id: 'auth-huge',
    group: 'auth',
    what: 'an Authorization header of 12 kB',
    outcome: '401',
    steps: [post('/api/generate', json({}), [['Authorization', `Bearer ${'k'.repeat(12_000)}`]], null)],
    expect: status(401, true),
  },
  { id: 'auth-user-metrics', group: 'auth', what: 'a user key on /tinyllm/metrics', outcome: '403', steps: [get('/tinyllm/metrics')], expect: status(403) },
  {
    id: 'auth-user-clear-other',
    group: 'auth',
    what: 'a user clearing `?namespace=team-b`',
    outcome: 'clears its own sub-namespace team-a:team-b only',
    steps: [rawRequest('POST', '/tinyllm/clear?namespace=team-b', [['Host', 'p'], auth(), ['Connection', 'close']])],
    expect: { statuses: [200], check: (x) => expectEqual(JSON.parse(x.responses[0]?.body.toString() ?? '{}').namespace, 'team-a:team-b') },
  },
  {
    id: 'auth-passthrough',
    group: 'auth',
    what: 'a pass-through route without a key',
    outcome: '401, never forwarded',
    steps: [get('/api/tags', [], null)],
    expect: status(401),
  },
];

function expectEqual(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function expectSmall(exchange: RawExchange, bytes: number): void {
  if (exchange.raw.length > bytes) throw new Error(`the answer is ${exchange.raw.length} bytes, expected at most ${bytes}`);
}

/** The catalogue as the Markdown table docs/security.md holds (a test checks that the doc has it, row for row). */
export function catalogueMarkdown(): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const rows = CATALOGUE.map((c, i) => {
    const e = c.expect;
    const answer = e.statuses.length === 0 ? 'no answer' : e.statuses.join(', ');
    const expected = `${answer}${e.closed ? ', closed' : ''}${(e.stores ?? 0) > 0 ? `, ${e.stores} stored` : ''}`;
    return `| ${i + 1} | \`${c.id}\` | ${c.group} | ${cell(c.what)} | ${expected} | ${cell(c.outcome)} |`;
  });
  return ['| # | case | group | sent | expected | what happens |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}
