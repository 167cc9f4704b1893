/**
 * Properties of the key rules, checked with fast-check over random requests of every field the key
 * reads: what must never change a key, what must always change it, that keys do not collide, that
 * namespaces never share one, and that the canonical form is the same in another process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { cacheKeyMaterial, canonicalRequest, EXCLUDED_OPTION_FIELDS, generateCacheKey } from '../src/keys.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Request = { model: string } & Record<string, unknown>;

/** How many random cases each property runs. */
const RUNS = 300;

// JSON values without null (a null field is the field left out) and without -0 (written as 0).
const value: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.string(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const MODELS = ['llama3.2:latest', 'qwen2.5:0.5b', 'qwen3:0.6b', 'nomic-embed-text:latest', 'library/mistral:7b'];
const base64Image = fc.uint8Array({ minLength: 1, maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const options = fc.record(
  {
    temperature: fc.double({ min: 0, max: 2, noNaN: true }).filter((n) => !Object.is(n, -0)),
    seed: fc.integer(),
    top_k: fc.integer({ min: 1, max: 100 }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }).filter((n) => !Object.is(n, -0)),
    num_predict: fc.integer({ min: -2, max: 4096 }),
    num_ctx: fc.integer({ min: 1, max: 131072 }),
    stop: fc.array(fc.string(), { maxLength: 3 }),
    repeat_penalty: fc.double({ min: 0, max: 2, noNaN: true }).filter((n) => !Object.is(n, -0)),
  },
  { requiredKeys: [] },
);
const schema = fc.record({
  type: fc.constant('object'),
  properties: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.record({ type: fc.constantFrom('string', 'number', 'boolean') }), { maxKeys: 4 }),
});
const message = fc.record(
  {
    role: fc.constantFrom('system', 'user', 'assistant', 'tool'),
    content: fc.string(),
    images: fc.array(base64Image, { maxLength: 2 }),
    thinking: fc.string(),
  },
  { requiredKeys: ['role', 'content'] },
);
const tool = fc.record({
  type: fc.constant('function'),
  function: fc.record({ name: fc.string({ minLength: 1 }), description: fc.string(), parameters: schema }),
});

/** A generate request with a random subset of the fields the key reads. */
const generateRequest: fc.Arbitrary<Request> = fc.record(
  {
    model: fc.constantFrom(...MODELS),
    prompt: fc.string(),
    suffix: fc.string(),
    system: fc.string(),
    template: fc.string(),
    context: fc.array(fc.integer({ min: 0, max: 150_000 }), { maxLength: 6 }),
    raw: fc.boolean(),
    images: fc.array(base64Image, { maxLength: 3 }),
    format: fc.oneof(fc.constant('json'), schema),
    think: fc.oneof(fc.boolean(), fc.constantFrom('low', 'medium', 'high')),
    truncate: fc.boolean(),
    options,
  },
  { requiredKeys: ['model', 'prompt'] },
);
/** A chat request. */
const chatRequest: fc.Arbitrary<Request> = fc.record(
  {
    model: fc.constantFrom(...MODELS),
    messages: fc.array(message, { minLength: 1, maxLength: 4 }),
    tools: fc.array(tool, { maxLength: 2 }),
    format: fc.oneof(fc.constant('json'), schema),
    think: fc.boolean(),
    options,
  },
  { requiredKeys: ['model', 'messages'] },
);
const anyRequest = fc.oneof(generateRequest, chatRequest);

/** The same value with object keys in another (random) order at every depth, except inside `format` (its order is part of the grammar). */
function reorder(input: unknown, rank: (key: string) => number, inFormat = false): unknown {
  if (Array.isArray(input)) return input.map((item) => reorder(item, rank, inFormat));
  if (typeof input !== 'object' || input === null) return input;
  const keys = Object.keys(input);
  const ordered = inFormat ? keys : [...keys].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  const out: Record<string, unknown> = {};
  for (const key of ordered) out[key] = reorder((input as Record<string, unknown>)[key], rank, inFormat || key === 'format');
  return out;
}

describe('properties of the key rules (fast-check)', () => {
  it('key order never changes a key, at any depth (a JSON schema in format keeps its own order)', () => {
    fc.assert(
      fc.property(anyRequest, fc.func(fc.integer()), (request, rank) => {
        const shuffled = reorder(request, rank) as Request;
        expect(generateCacheKey(shuffled)).toBe(generateCacheKey(request));
        expect(generateCacheKey(shuffled, { exact: true })).toBe(generateCacheKey(request, { exact: true }));
      }),
      { numRuns: RUNS },
    );
  });

  it('excluded fields never change a key: stream, keep_alive, the cache controls, and the runtime options', () => {
    const excluded = fc.record(
      {
        stream: fc.boolean(),
        keep_alive: fc.oneof(fc.string(), fc.integer()),
        forceRefresh: fc.boolean(),
        cacheTtl: fc.integer({ min: 1 }),
        noStore: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const runtime = fc.record(Object.fromEntries([...EXCLUDED_OPTION_FIELDS].map((name) => [name, fc.oneof(fc.integer(), fc.boolean())])), {
      requiredKeys: [],
    });
    fc.assert(
      fc.property(anyRequest, excluded, runtime, (request, extra, runtimeOptions) => {
        const withExtra = { ...request, ...extra, options: { ...(request.options as object | undefined), ...runtimeOptions } };
        // An options object that only held runtime options is an empty one: compare with that.
        const reference = { ...request, options: { ...(request.options as object | undefined) } };
        expect(generateCacheKey(withExtra)).toBe(generateCacheKey(reference));
      }),
      { numRuns: RUNS },
    );
  });

  it('a null field is the field left out (Ollama reads null as absent), at the top level, in options and in messages', () => {
    fc.assert(
      fc.property(generateRequest, fc.constantFrom('suffix', 'system', 'template', 'images', 'format', 'think', 'raw', 'context'), (request, field) => {
        const { [field]: _dropped, ...without } = request;
        expect(generateCacheKey({ ...without, [field]: null } as Request)).toBe(generateCacheKey(without as Request));
        expect(generateCacheKey({ ...request, options: { ...(request.options as object), temperature: null } })).toBe(
          generateCacheKey({ ...request, options: { ...(request.options as object), temperature: undefined } }),
        );
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(chatRequest, (request) => {
        const messages = request.messages as Array<Record<string, unknown>>;
        const withNulls = { ...request, messages: messages.map((m) => ({ ...m, thinking: null, images: null })) };
        const without = { ...request, messages: messages.map(({ thinking: _t, images: _i, ...m }) => m) };
        expect(generateCacheKey(withNulls)).toBe(generateCacheKey(without));
      }),
      { numRuns: RUNS },
    );
  });

  it('any change of an included field changes the key', () => {
    const fields = ['prompt', 'suffix', 'system', 'template', 'context', 'raw', 'think', 'truncate', 'tools', 'messages', 'custom_field'];
    fc.assert(
      fc.property(generateRequest, fc.constantFrom(...fields), value, value, (request, field, a, b) => {
        fc.pre(a !== null && b !== null && canonicalJson(a) !== canonicalJson(b));
        const one = generateCacheKey({ ...request, [field]: a }, { exact: true });
        const two = generateCacheKey({ ...request, [field]: b }, { exact: true });
        expect(one).not.toBe(two);
      }),
      { numRuns: RUNS },
    );
    // Options, one at a time, and the model (names Ollama tells apart).
    fc.assert(
      fc.property(
        generateRequest,
        fc.constantFrom('temperature', 'seed', 'top_k', 'top_p', 'num_predict', 'num_ctx', 'stop', 'min_p', 'mirostat'),
        value,
        value,
        (request, name, a, b) => {
          fc.pre(a !== null && b !== null && canonicalJson(a) !== canonicalJson(b));
          const at = (v: Json) => generateCacheKey({ ...request, options: { ...(request.options as object), [name]: v } });
          expect(at(a)).not.toBe(at(b));
        },
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(generateRequest, fc.constantFrom(...MODELS), fc.constantFrom(...MODELS), (request, a, b) => {
        fc.pre(a !== b);
        expect(generateCacheKey({ ...request, model: a })).not.toBe(generateCacheKey({ ...request, model: b }));
      }),
      { numRuns: RUNS },
    );
    // Images are keyed by content: another image is another key.
    fc.assert(
      fc.property(generateRequest, base64Image, base64Image, (request, a, b) => {
        fc.pre(Buffer.from(a, 'base64').toString('hex') !== Buffer.from(b, 'base64').toString('hex'));
        expect(generateCacheKey({ ...request, images: [a] })).not.toBe(generateCacheKey({ ...request, images: [b] }));
      }),
      { numRuns: RUNS },
    );
  });

  it('distinct requests never share a key in a large sample (20,000 random requests)', () => {
    const byKey = new Map<string, string>();
    for (const request of fc.sample(anyRequest, { numRuns: 20_000, seed: 12 })) {
      const key = generateCacheKey(request);
      const canonical = JSON.stringify(canonicalRequest(request));
      const earlier = byKey.get(key);
      // The same key only for requests whose normalised form is the same.
      if (earlier !== undefined) expect(canonical).toBe(earlier);
      else byKey.set(key, canonical);
    }
    expect(byKey.size).toBeGreaterThan(19_000);
  });

  it("two namespaces never share a key, and a tenant's clear prefix never matches another tenant's keys", () => {
    const namespace = fc.string({ minLength: 1, maxLength: 12 });
    const tenant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/);
    fc.assert(
      fc.property(anyRequest, anyRequest, namespace, namespace, (r1, r2, n1, n2) => {
        fc.pre(n1 !== n2);
        expect(generateCacheKey(r1, { namespace: n1 })).not.toBe(generateCacheKey(r2, { namespace: n2 }));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(anyRequest, tenant, tenant, fc.option(tenant, { nil: undefined }), (request, t1, t2, sub) => {
        fc.pre(t1 !== t2);
        // What scoped clear and stats match for tenant t1: keys starting with "t1:".
        const other = generateCacheKey(request, { namespace: sub === undefined ? t2 : `${t2}:${sub}` });
        expect(other.startsWith(`${t1}:`)).toBe(false);
        expect(generateCacheKey(request, { namespace: sub === undefined ? t1 : `${t1}:${sub}` }).startsWith(`${t1}:`)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('canonical JSON and keys are the same in another process (the built package, another hash seed and locale)', () => {
    const requests = fc.sample(anyRequest, { numRuns: 500, seed: 7 });
    const here = requests.map((request) => ({ material: cacheKeyMaterial(request), key: generateCacheKey(request, { namespace: 'ns' }) }));
    const script = `
      import { cacheKeyMaterial, generateCacheKey } from '@tinyllm/cache-core';
      let input = '';
      for await (const chunk of process.stdin) input += chunk;
      const out = JSON.parse(input).map((request) => ({ material: cacheKeyMaterial(request), key: generateCacheKey(request, { namespace: 'ns' }) }));
      process.stdout.write(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '--random-seed=4242', '--hash-seed=99', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      input: JSON.stringify(requests),
      env: { ...process.env, LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', TZ: 'Pacific/Chatham' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(child.stderr.toString()).toBe('');
    expect(child.status).toBe(0);
    const there = JSON.parse(child.stdout.toString()) as typeof here;
    expect(there).toEqual(here);
  });
});
