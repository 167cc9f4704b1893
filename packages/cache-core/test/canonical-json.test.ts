import { describe, expect, it } from 'vitest';
import { canonicalJson, MAX_KEY_DEPTH } from '../src/canonical-json.js';
import { InvalidRequestError } from '../src/errors.js';
import { generateCacheKey } from '../src/keys.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
  });
  it('drops undefined members, keeps null, writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined, 1] })).toBe('{"b":null,"c":[null,1]}');
  });
  it('writes -0 as 0 and non-finite numbers as null', () => {
    expect(canonicalJson({ a: -0, b: Number.NaN, c: Number.POSITIVE_INFINITY })).toBe('{"a":0,"b":null,"c":null}');
  });
  it('escapes strings exactly as JSON.stringify', () => {
    const tricky = 'quote " backslash \\ newline \n nul \u0000 line-sep \u2028 emoji 😀';
    expect(canonicalJson(tricky)).toBe(JSON.stringify(tricky));
    expect(JSON.parse(canonicalJson({ [tricky]: tricky }))).toEqual({ [tricky]: tricky });
  });
  it('agrees with JSON.stringify on already-sorted plain data', () => {
    const value = { a: [1, 'two', true, false, null, 1.5e-7], b: { c: 'd' } };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
  it('honours toJSON (dates)', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });
});

describe('nesting', () => {
  const deep = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
  const deepObject = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

  it(`keys values nested up to ${MAX_KEY_DEPTH} levels`, () => {
    expect(canonicalJson(deep(MAX_KEY_DEPTH - 1))).toBe(`${'['.repeat(MAX_KEY_DEPTH - 1)}1${']'.repeat(MAX_KEY_DEPTH - 1)}`);
    expect(generateCacheKey({ model: 'm', prompt: 'p', format: deepObject(100) })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses deeper values with a typed error, never a stack overflow (100,000 levels, as a hostile body can send)', () => {
    for (const request of [
      { model: 'm', prompt: 'p', options: { stop: deep(100_000) } },
      { model: 'm', prompt: 'p', format: deepObject(100_000) },
      { model: 'm', messages: [{ role: 'user', content: 'x', tool_calls: [{ function: { arguments: deepObject(100_000) } }] }] },
      { model: 'm', prompt: deep(MAX_KEY_DEPTH + 1) },
    ]) {
      let caught: unknown;
      try {
        generateCacheKey(request);
      } catch (error) {
        caught = error;
      }
      expect(InvalidRequestError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain(`nested more than ${MAX_KEY_DEPTH} levels deep`);
    }
  });
});
