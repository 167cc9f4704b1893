import { describe, expect, it } from 'vitest';
import { copyJson, likeGo, omit } from './json.js';

// A model can write any JSON, "__proto__" keys included (tool call arguments, a JSON answer parsed
// by a profile): copies must keep them as fields, never turn them into prototypes.
const hostile = () =>
  JSON.parse(
    '{"message":{"tool_calls":[{"function":{"arguments":{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}}}]},"__proto__":{"done":true}}',
  );

describe('copying answers that hold __proto__ keys', () => {
  it('copyJson keeps "__proto__" as an own field at every depth and sets no prototype', () => {
    const source = hostile();
    const copy = copyJson(source);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(source));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { done?: unknown }).done).toBeUndefined();
    const args = copy.message.tool_calls[0].function.arguments;
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect((args as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(({} as { isAdmin?: unknown; x?: unknown }).isAdmin).toBeUndefined();
    // A copy, not the same objects.
    expect(args).not.toBe(source.message.tool_calls[0].function.arguments);
  });

  it('omit keeps a "__proto__" field as a field, and copies own keys only', () => {
    const source = hostile();
    const out = omit(source, ['message']);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"done":true}}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const inherited = Object.assign(Object.create({ inherited: 1 }), { own: 2 });
    expect(omit(inherited, [])).toEqual({ own: 2 });
  });
});

describe('likeGo: JSON text as Go writes it', () => {
  it('escapes <, > and & and the two line separators the way encoding/json does, and parses to the same value', () => {
    const value = { response: '<think>a & b</think>\u2028\u2029', n: 1 };
    const text = likeGo(JSON.stringify(value));
    expect(text).toBe('{"response":"\\u003cthink\\u003ea \\u0026 b\\u003c/think\\u003e\\u2028\\u2029","n":1}');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('leaves text without those characters as it is (the same string)', () => {
    const text = JSON.stringify({ response: 'plain "quoted" text \\ é' });
    expect(likeGo(text)).toBe(text);
  });
});
