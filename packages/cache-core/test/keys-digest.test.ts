import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { cacheKeyMaterial, generateCacheKey } from '../src/keys.js';

const request = { model: 'llama3', prompt: 'hi' };
const DIGEST = 'sha256:'.concat('a'.repeat(64));

describe('modelDigest as a key input', () => {
  it('a digest changes the key; the same digest gives the same key; keys without one are unchanged', () => {
    const plain = generateCacheKey(request, { endpoint: 'generate' });
    const bound = generateCacheKey(request, { endpoint: 'generate', modelDigest: DIGEST });
    expect(bound).not.toBe(plain);
    expect(generateCacheKey({ prompt: 'hi', model: 'llama3:latest' }, { endpoint: 'generate', modelDigest: DIGEST })).toBe(bound);
    expect(generateCacheKey(request, { endpoint: 'generate', modelDigest: DIGEST.replace(/a$/, 'b') })).not.toBe(bound);
    expect(cacheKeyMaterial(request, { endpoint: 'generate' })).not.toContain('digest=');
    expect(generateCacheKey(request, { endpoint: 'generate', namespace: 't', modelDigest: DIGEST })).toBe(`t:${bound}`);
  });

  it('refuses a digest that is not one (empty, spaces, not a string)', () => {
    for (const bad of ['', 'has space', 42, 'x'.repeat(201)]) {
      expect(() => generateCacheKey(request, { modelDigest: bad as string })).toThrow(InvalidOptionError);
    }
  });
});
