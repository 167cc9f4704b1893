import { recordingLogger } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { defineBackend } from '../src/backend-base.js';
import { createEntry } from '../src/create-entry.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

describe('refused writes', () => {
  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a BigInt', 1n],
    ['a BigInt inside an object', { n: 1n }],
  ])('%s: set resolves false, counts an error, logs a warning, stores nothing and drops the old value', async (_name, value) => {
    const logger = recordingLogger();
    const cache = new ResponseCache<unknown>({ backend: new ReferenceBackend(), logger });
    await cache.set('k', 'old');
    expect(await cache.set('k', value)).toBe(false);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ sets: 1, errors: 1 });
    expect(logger.records.find((record) => record.context.event === 'cache_refused')?.level).toBe('warn');
  });

  it('a backend that refuses an entry (set returns false) is a refused write too', async () => {
    const writes: string[] = [];
    const backend = defineBackend({
      name: 'picky',
      capabilities: {},
      get: () => undefined,
      set: (key, _entry, valueJson) => {
        if (valueJson.length > 10) return false;
        writes.push(key);
      },
      delete: () => false,
      clear: () => 0,
      stats: () => ({ entries: writes.length }),
    });
    const cache = new ResponseCache({ backend });
    expect(await cache.set('small', 'ok')).toBe(true);
    expect(await cache.set('big', 'x'.repeat(100))).toBe(false);
    expect(writes).toEqual(['small']);
    expect(cache.getMetrics()).toMatchObject({ sets: 1, errors: 1 });
  });

  it('JSON semantics otherwise: nested undefined and functions are left out, toJSON is honoured', async () => {
    const backend = new ReferenceBackend();
    expect(await backend.set('k', createEntry({ a: 1, b: undefined, f: () => 1, at: new Date(0) }))).toBeUndefined();
    expect((await backend.get('k'))?.value).toEqual({ a: 1, at: '1970-01-01T00:00:00.000Z' });
  });
});
