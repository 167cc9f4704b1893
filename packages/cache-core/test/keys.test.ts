import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidRequestError } from '../src/errors.js';
import { cacheKeyMaterial, canonicalRequest, generateCacheKey, imageFingerprint, normalizeModelName, toOllamaRequest } from '../src/keys.js';
import vectors from './key-vectors.json' with { type: 'json' };

const base = {
  model: 'llama3.2',
  prompt: 'Why is the sky blue?',
  system: 'Be brief.',
  options: { temperature: 0, seed: 42, top_k: 40, top_p: 0.9, num_predict: 128, stop: ['\n\n'], num_ctx: 4096 },
};
const PNG_BASE64 = Buffer.from('not really a png, but bytes all the same').toString('base64');

describe('generateCacheKey: pinned vectors', () => {
  // A changed key here means every stored entry is orphaned: bump KEY_SCHEMA_VERSION and regenerate on purpose.
  it.each(vectors.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    expect(generateCacheKey(vector.request as { model: string }, vector.options as { namespace?: string })).toBe(vector.key);
  });
});

describe('generateCacheKey: what does not change the key', () => {
  const key = generateCacheKey(base);
  it('is 64 hex characters without a namespace', () => {
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
  it('options that hold only runtime settings (or nothing) are the same request as no options', () => {
    const bare = { model: 'm', prompt: 'p' };
    for (const options of [{}, { num_thread: 8 }, { num_gpu: 1, use_mmap: false }, { temperature: null }]) {
      expect(generateCacheKey({ ...bare, options })).toBe(generateCacheKey(bare));
    }
    expect(generateCacheKey({ ...bare, options: { temperature: 0 } })).not.toBe(generateCacheKey(bare));
  });
  it('ignores key order at every depth', () => {
    const reordered = {
      options: { num_ctx: 4096, stop: ['\n\n'], num_predict: 128, top_p: 0.9, top_k: 40, seed: 42, temperature: 0 },
      system: 'Be brief.',
      prompt: 'Why is the sky blue?',
      model: 'llama3.2',
    };
    expect(generateCacheKey(reordered)).toBe(key);
  });
  it.each([
    ['stream: true', { stream: true }],
    ['stream: false', { stream: false }],
    ['keep_alive', { keep_alive: '10m' }],
    ['keep_alive number', { keep_alive: -1 }],
    ['cache controls', { forceRefresh: true, cacheTtl: 10, noStore: true }],
    ['an undefined field', { suffix: undefined }],
  ])('ignores %s', (_name, extra) => {
    expect(generateCacheKey({ ...base, ...extra })).toBe(key);
  });
  it.each(['num_thread', 'num_gpu', 'main_gpu', 'use_mmap', 'numa', 'low_vram'])('ignores the performance option %s', (option) => {
    expect(generateCacheKey({ ...base, options: { ...base.options, [option]: 7 } })).toBe(key);
  });
  it('treats name and name:latest, in any case, as one model', () => {
    expect(generateCacheKey({ ...base, model: 'llama3.2:latest' })).toBe(key);
    expect(generateCacheKey({ ...base, model: 'Llama3.2' })).toBe(key);
    expect(normalizeModelName('registry.local:5000/team/model')).toBe('registry.local:5000/team/model:latest');
    expect(normalizeModelName('team/model:q4')).toBe('team/model:q4');
    // Spellings Ollama resolves to one model (types/model/name.go: defaults registry.ollama.ai, library, latest).
    for (const spelling of [
      'llama3.2',
      'library/llama3.2',
      'registry.ollama.ai/library/llama3.2:latest',
      'https://registry.ollama.ai/library/llama3.2',
      ' Llama3.2:LATEST ',
    ]) {
      expect(normalizeModelName(spelling)).toBe('llama3.2:latest');
    }
    expect(normalizeModelName('registry.ollama.ai/someone/llama3.2')).toBe('registry.ollama.ai/someone/llama3.2:latest');
    expect(normalizeModelName('someone/llama3.2')).toBe('someone/llama3.2:latest');
  });
  it('writes -0 as 0', () => {
    expect(generateCacheKey({ ...base, options: { ...base.options, temperature: -0 } })).toBe(key);
  });
  it('maps the simple request form onto the Ollama form', () => {
    const simple = { model: 'llama3.2', prompt: 'Hi', temperature: 0.2, max_tokens: 50, system: 'S', json_mode: true };
    const ollama = { model: 'llama3.2:latest', prompt: 'Hi', system: 'S', format: 'json', options: { temperature: 0.2, num_predict: 50 } };
    expect(generateCacheKey(simple)).toBe(generateCacheKey(ollama));
    expect(generateCacheKey({ ...simple, json_mode: false })).toBe(generateCacheKey({ ...ollama, format: undefined }));
    expect(toOllamaRequest(simple)).toEqual({ model: 'llama3.2', prompt: 'Hi', system: 'S', format: 'json', options: { temperature: 0.2, num_predict: 50 } });
  });
  it('lets an explicit options value win over a top-level one, in key and request alike', () => {
    const mixed = { model: 'm', prompt: 'p', temperature: 1, options: { temperature: 0 } };
    expect(generateCacheKey(mixed)).toBe(generateCacheKey({ model: 'm', prompt: 'p', options: { temperature: 0 } }));
    expect(toOllamaRequest(mixed).options).toEqual({ temperature: 0 });
  });
  it('identifies images by their bytes: base64 text, Uint8Array, Buffer and ArrayBuffer are one image', () => {
    const bytes = Buffer.from(PNG_BASE64, 'base64');
    const fromBase64 = generateCacheKey({ ...base, images: [PNG_BASE64] });
    expect(generateCacheKey({ ...base, images: [new Uint8Array(bytes)] })).toBe(fromBase64);
    expect(generateCacheKey({ ...base, images: [bytes] })).toBe(fromBase64);
    expect(generateCacheKey({ ...base, images: [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)] })).toBe(fromBase64);
    expect(generateCacheKey({ ...base, images: [PNG_BASE64.replace(/(.{8})/g, '$1\n')] })).toBe(fromBase64);
    expect(imageFingerprint(PNG_BASE64)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('generateCacheKey: a null field is the field left out (Ollama reads null as absent)', () => {
  const key = generateCacheKey(base);
  it.each([
    ['system: null on the simple request form', { model: 'm', prompt: 'p', system: null }, { model: 'm', prompt: 'p' }],
    ['top-level fields', { ...base, suffix: null, format: null, images: null, think: null, template: null }, base],
    ['options: null', { model: 'm', prompt: 'p', options: null }, { model: 'm', prompt: 'p' }],
    ['a null option value', { ...base, options: { ...base.options, min_p: null } }, base],
    ['simple-form fields', { model: 'm', prompt: 'p', temperature: null, max_tokens: null, json_mode: null }, { model: 'm', prompt: 'p' }],
    [
      'message fields',
      { model: 'm', messages: [{ role: 'user', content: 'Q', images: null, tool_calls: null, thinking: null }] },
      { model: 'm', messages: [{ role: 'user', content: 'Q' }] },
    ],
  ])('%s', (_name, withNulls, without) => {
    expect(generateCacheKey(withNulls as never)).toBe(generateCacheKey(without as never));
  });
  it('the base request is unchanged by it', () => {
    expect(generateCacheKey({ ...base, suffix: null })).toBe(key);
  });
  it.each([
    ['inside an options array', { ...base, options: { ...base.options, stop: ['\n\n', null] } }, base],
    [
      'inside a JSON-schema format',
      { ...base, format: { type: 'object', properties: { a: { type: 'string', default: null } } } },
      { ...base, format: { type: 'object', properties: { a: { type: 'string' } } } },
    ],
    [
      'inside tool call arguments',
      { model: 'm', messages: [{ role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: null } } }] }] },
      { model: 'm', messages: [{ role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: {} } }] }] },
    ],
    ['as a message of its own', { model: 'm', messages: [{ role: 'user', content: 'Q' }, null] }, { model: 'm', messages: [{ role: 'user', content: 'Q' }] }],
  ])('but a null %s is data and changes the key', (_name, withNull, without) => {
    expect(generateCacheKey(withNull as never)).not.toBe(generateCacheKey(without as never));
  });
});

describe('generateCacheKey: what changes the key', () => {
  const key = generateCacheKey(base);
  it.each([
    ['model', { model: 'llama3.1' }],
    ['model tag', { model: 'llama3.2:1b' }],
    ['prompt', { prompt: 'Why is the sky red?' }],
    ['prompt whitespace', { prompt: 'Why is the sky blue? ' }],
    ['system', { system: 'Be verbose.' }],
    ['no system', { system: undefined }],
    ['suffix', { suffix: 'end' }],
    ['template', { template: '{{ .Prompt }}' }],
    ['context', { context: [1, 2, 3] }],
    ['raw', { raw: true }],
    ['format json', { format: 'json' }],
    ['format schema', { format: { type: 'object', properties: { a: { type: 'string' } } } }],
    ['think true', { think: true }],
    ['think false', { think: false }],
    ['think level', { think: 'high' }],
    ['truncate', { truncate: false }],
    ['images', { images: [PNG_BASE64] }],
    ['logprobs', { logprobs: true }],
  ])('%s', (_name, change) => {
    expect(generateCacheKey({ ...base, ...change })).not.toBe(key);
  });
  it("text Ollama would reject as an image: a data: URI, or stray characters, never shares a valid image's key", () => {
    const valid = generateCacheKey({ ...base, images: ['ABCD'] });
    expect(generateCacheKey({ ...base, images: ['AB!CD'] })).not.toBe(valid);
    expect(generateCacheKey({ ...base, images: [`data:image/png;base64,${PNG_BASE64}`] })).not.toBe(generateCacheKey({ ...base, images: [PNG_BASE64] }));
  });
  it('rejects an image that is neither text nor bytes', () => {
    expect(() => generateCacheKey({ ...base, images: [{ path: 'x.png' }] })).toThrow(InvalidRequestError);
  });
  it('the property order of a format schema (Ollama builds its grammar, and the answer, in that order)', () => {
    const answerFirst = { type: 'object', properties: { answer: { type: 'string' }, reasoning: { type: 'string' } } };
    const reasoningFirst = { type: 'object', properties: { reasoning: { type: 'string' }, answer: { type: 'string' } } };
    expect(generateCacheKey({ ...base, format: answerFirst })).not.toBe(generateCacheKey({ ...base, format: reasoningFirst }));
  });
  it('an image with other bytes', () => {
    const other = Buffer.from('other bytes').toString('base64');
    expect(generateCacheKey({ ...base, images: [PNG_BASE64] })).not.toBe(generateCacheKey({ ...base, images: [other] }));
  });
  it.each([
    ['temperature', 0.7],
    ['seed', 43],
    ['top_k', 1],
    ['top_p', 0.5],
    ['min_p', 0.05],
    ['typical_p', 0.9],
    ['num_predict', 64],
    ['stop', ['END']],
    ['num_ctx', 8192],
    ['repeat_last_n', 32],
    ['repeat_penalty', 1.2],
    ['presence_penalty', 0.5],
    ['frequency_penalty', 0.5],
    ['num_keep', 8],
    ['num_batch', 256],
    ['mirostat', 2],
  ])('the sampling or context option %s', (option, value) => {
    expect(generateCacheKey({ ...base, options: { ...base.options, [option]: value } })).not.toBe(key);
  });
  it('the endpoint: the same model and text on generate, chat and embed are three keys', () => {
    const generate = generateCacheKey({ model: 'm', prompt: 'hello' });
    const chat = generateCacheKey({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
    const embed = generateCacheKey({ model: 'm', input: 'hello' });
    expect(new Set([generate, chat, embed]).size).toBe(3);
    expect(generateCacheKey({ model: 'm', prompt: 'hello' }, { endpoint: 'embed' })).not.toBe(generate);
  });
  it('the legacy embeddings endpoint is an endpoint of its own, named explicitly', () => {
    const legacy = generateCacheKey({ model: 'm', prompt: 'hello' }, { endpoint: 'embeddings' });
    expect(legacy).not.toBe(generateCacheKey({ model: 'm', prompt: 'hello' }));
    expect(legacy).not.toBe(generateCacheKey({ model: 'm', input: 'hello' }));
    expect(cacheKeyMaterial({ model: 'm', prompt: 'hello' }, { endpoint: 'embeddings' })).toMatch(/^tinyllm-key\/v2 embeddings \{/);
  });
  it('every field of every chat message, tools and message images', () => {
    const chat = {
      model: 'm',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'Q' },
      ],
    };
    const key = generateCacheKey(chat);
    expect(
      generateCacheKey({
        ...chat,
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: 'Q', images: [PNG_BASE64] },
        ],
      }),
    ).not.toBe(key);
    expect(
      generateCacheKey({
        ...chat,
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: 'Q', thinking: 't' },
        ],
      }),
    ).not.toBe(key);
    expect(generateCacheKey({ ...chat, messages: [{ role: 'user', content: 'Q' }] })).not.toBe(key);
    expect(generateCacheKey({ ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] })).not.toBe(key);
  });
  it('embed input, dimensions and truncate', () => {
    const embed = { model: 'e', input: ['a', 'b'] };
    const key = generateCacheKey(embed);
    expect(generateCacheKey({ ...embed, input: ['b', 'a'] })).not.toBe(key);
    expect(generateCacheKey({ ...embed, dimensions: 256 })).not.toBe(key);
    expect(generateCacheKey({ ...embed, truncate: false })).not.toBe(key);
  });
  it('the namespace, which is also readable in front of the hash', () => {
    const a = generateCacheKey(base, { namespace: 'tenant-a' });
    const b = generateCacheKey(base, { namespace: 'tenant-b' });
    expect(a).toMatch(/^tenant-a:[0-9a-f]{64}$/);
    expect(a.slice(-64)).toBe(key);
    expect(a).not.toBe(b);
  });
});

describe('generateCacheKey: bad input', () => {
  it.each([
    ['no model', { prompt: 'x' }],
    ['empty model', { model: ' ', prompt: 'x' }],
    ['numeric model', { model: 3, prompt: 'x' }],
  ])('rejects a request with %s, naming the field', (_name, request) => {
    expect(() => generateCacheKey(request as never)).toThrowError(/Invalid request field model/);
    try {
      generateCacheKey(request as never);
    } catch (error) {
      expect(InvalidRequestError.isInstance(error)).toBe(true);
    }
  });
  it('rejects an empty namespace with InvalidOptionError', () => {
    expect(() => generateCacheKey(base, { namespace: '' })).toThrow(InvalidOptionError);
  });
  it('keeps the canonical request readable for explanations', () => {
    expect(canonicalRequest({ model: 'M', prompt: 'p', stream: true, options: { num_gpu: 1, seed: 1 } })).toEqual({
      model: 'm:latest',
      prompt: 'p',
      options: { seed: 1 },
    });
    expect(canonicalRequest({ model: 'm', prompt: 'p', temperature: 0.5, max_tokens: 9, json_mode: true })).toEqual({
      model: 'm:latest',
      prompt: 'p',
      format: 'json',
      options: { temperature: 0.5, num_predict: 9 },
    });
  });
});

describe('generateCacheKey: the documented format', () => {
  it('is sha256 of the version, the endpoint and the canonical JSON of the normalised request', async () => {
    const { createHash } = await import('node:crypto');
    const material = 'tinyllm-key/v2 generate {"model":"qwen2.5:0.5b","options":{"temperature":0},"prompt":"Hello"}';
    const request = { prompt: 'Hello', model: 'Qwen2.5:0.5b', stream: false, options: { temperature: -0, num_gpu: 1 } };
    expect(cacheKeyMaterial(request)).toBe(material);
    expect(generateCacheKey(request)).toBe(createHash('sha256').update(material).digest('hex'));
  });
  it('keeps request fields named like its own framing apart from it', () => {
    expect(generateCacheKey({ model: 'm', prompt: 'p', endpoint: 'chat' })).not.toBe(generateCacheKey({ model: 'm', prompt: 'p' }));
    expect(generateCacheKey({ model: 'm', prompt: 'p', endpoint: 'chat' })).not.toBe(generateCacheKey({ model: 'm', prompt: 'p' }, { endpoint: 'chat' }));
  });
});
