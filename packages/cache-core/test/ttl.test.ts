import { describe, expect, it } from 'vitest';
import { createEntry, MAX_TTL_SECONDS } from '../src/create-entry.js';
import { InvalidOptionError } from '../src/errors.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

const backend = () => new ReferenceBackend();

/** The InvalidOptionError a call throws (synchronously or as a rejection). */
async function optionError(call: () => unknown): Promise<InvalidOptionError> {
  try {
    await call();
  } catch (error) {
    if (InvalidOptionError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('TTLs: one rule everywhere', () => {
  it('0 is refused for defaultTtl, ttl and createEntry, saying what to use instead', async () => {
    const errors = [
      await optionError(() => new ResponseCache({ backend: backend(), defaultTtl: 0 })),
      await optionError(() => new ResponseCache({ backend: backend() }).set('k', 'v', { ttl: 0 })),
      await optionError(() => new ResponseCache({ backend: backend() }).getOrSet('k', () => 'v', { ttl: 0 })),
      await optionError(() => createEntry('v', { ttl: 0 })),
      await optionError(() => createEntry('v', { ttl: -0 })),
    ];
    expect(errors.map((error) => error.option)).toEqual(['defaultTtl', 'ttl', 'ttl', 'ttl', 'ttl']);
    for (const error of errors) expect(error.message).toContain('use noStore: true to store nothing, or null for no expiry');
  });

  it(`a TTL above ${MAX_TTL_SECONDS} seconds (10 years) is refused, naming the bound`, async () => {
    const error = await optionError(() => new ResponseCache({ backend: backend() }).set('k', 'v', { ttl: 1e17 }));
    expect(error.option).toBe('ttl');
    expect(error.message).toContain(`at most ${MAX_TTL_SECONDS} seconds (10 years)`);
    expect((await optionError(() => new ResponseCache({ backend: backend(), defaultTtl: MAX_TTL_SECONDS + 1 }))).option).toBe('defaultTtl');
  });

  it('the bound itself, fractions of a second and null (no expiry) are accepted', async () => {
    const cache = new ResponseCache({ backend: backend() });
    expect(await cache.set('max', 'v', { ttl: MAX_TTL_SECONDS })).toBe(true);
    expect((await cache.getEntry('max'))?.expiresAt).toBeGreaterThan(Date.now() + (MAX_TTL_SECONDS - 10) * 1000);
    expect(await cache.set('short', 'v', { ttl: 0.5 })).toBe(true);
    expect(await cache.set('forever', 'v', { ttl: null })).toBe(true);
    expect((await cache.getEntry('forever'))?.expiresAt).toBeNull();
    expect(new ResponseCache({ backend: backend(), defaultTtl: null }).defaultTtl).toBeNull();
  });

  it.each([
    [-1, 'a number of seconds > 0'],
    [Number.NaN, 'a number of seconds > 0'],
    [Number.POSITIVE_INFINITY, 'a number of seconds > 0'],
    ['60', 'a number of seconds > 0'],
  ])('%s is refused with the expected range', async (ttl, expected) => {
    expect((await optionError(() => createEntry('v', { ttl: ttl as number }))).message).toContain(expected);
  });
});
