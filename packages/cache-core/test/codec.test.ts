import { describe, expect, it } from 'vitest';
import { CODEC_TAG, decodeEntry, encodeEntry } from '../src/codec.js';
import { createEntry } from '../src/create-entry.js';
import { CacheDecodeError, UnstorableValueError } from '../src/errors.js';

describe('entry codec', () => {
  const entry = createEntry({ response: 'hi', done: true }, { ttl: 60, model: 'm:latest', now: 1_700_000_000_000 });

  it('round trips an entry, as string and as bytes', () => {
    const encoded = encodeEntry(entry);
    expect(encoded.startsWith(CODEC_TAG)).toBe(true);
    expect(decodeEntry(encoded)).toEqual(entry);
    expect(decodeEntry(Buffer.from(encoded))).toEqual(entry);
  });

  it.each([
    ['a foreign value', 'hello'],
    ['an empty value', ''],
    ['a truncated value', encodeEntry(entry).slice(0, -5)],
    ['an older codec version', encodeEntry(entry).replace(/^tlc1:/, 'tlc0:')],
    ['a wrong layout', `${CODEC_TAG}{"a":1}`],
    ['wrong metadata types', `${CODEC_TAG}["x",null,0,0,0,null,1]`],
  ])('rejects %s with CacheDecodeError', (_name, raw) => {
    expect(() => decodeEntry(raw)).toThrow(CacheDecodeError);
  });

  it('takes the value’s JSON text when the caller has it, and writes the same bytes', () => {
    expect(encodeEntry(entry, JSON.stringify(entry.value))).toBe(encodeEntry(entry));
    expect(decodeEntry(encodeEntry(entry, '{"done":true,"response":"hi"}')).value).toEqual({ done: true, response: 'hi' });
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a BigInt', 10n],
  ])('refuses %s with UnstorableValueError instead of writing null', (_name, value) => {
    expect(() => encodeEntry({ ...entry, value })).toThrow(UnstorableValueError);
  });

  it('names the version it found', () => {
    expect(() => decodeEntry('tlc9:[]')).toThrow(/codec version 9 is not 1/);
  });
});
