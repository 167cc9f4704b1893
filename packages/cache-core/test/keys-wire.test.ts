import { describe, expect, it } from 'vitest';
import { generateCacheKey } from '../src/index.js';

// Keys of requests exactly as a proxy forwards them to Ollama, native and OpenAI-compatible.
describe('keys of requests as they go over the wire', () => {
  it('exact: a top-level temperature (which Ollama ignores) is not the same request as options.temperature', () => {
    const top = { model: 'm', prompt: 'p', temperature: 0 };
    const inOptions = { model: 'm', prompt: 'p', options: { temperature: 0 } };
    expect(generateCacheKey(top, { endpoint: 'generate' })).toBe(generateCacheKey(inOptions, { endpoint: 'generate' }));
    expect(generateCacheKey(top, { endpoint: 'generate', exact: true })).not.toBe(generateCacheKey(inOptions, { endpoint: 'generate', exact: true }));
    expect(generateCacheKey(inOptions, { endpoint: 'generate', exact: true })).toBe(generateCacheKey(inOptions, { endpoint: 'generate' }));
  });

  it('the /v1 endpoints have key spaces of their own', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const keys = new Set((['chat', 'v1/chat/completions', 'v1/completions'] as const).map((endpoint) => generateCacheKey(body, { endpoint, exact: true })));
    expect(keys.size).toBe(3);
  });

  it('stream_options and user never change a key; response_format keeps its property order', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const key = (body: object) => generateCacheKey({ ...base, ...body }, { endpoint: 'v1/chat/completions', exact: true });
    expect(key({ stream_options: { include_usage: true }, user: 'alice' })).toBe(key({}));
    const schema = (a: string, b: string) => ({
      type: 'json_schema',
      json_schema: { name: 'x', schema: { type: 'object', properties: { [a]: { type: 'string' }, [b]: { type: 'string' } } } },
    });
    expect(key({ response_format: schema('city', 'country') })).not.toBe(key({ response_format: schema('country', 'city') }));
    expect(key({ n: 2 })).not.toBe(key({}));
  });
});
