import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { createResponseCache, ResponseCache } from '../src/response-cache.js';

describe('createResponseCache (what the create*Cache factories are built on)', () => {
  it('checks the cache options before opening the backend', () => {
    let opened = 0;
    const open = () => {
      opened++;
      return new ReferenceBackend();
    };
    expect(() => createResponseCache({ defaultTtl: 0 }, open)).toThrow(InvalidOptionError);
    expect(() => createResponseCache({ timeoutMs: -1 }, open)).toThrow(/Invalid option timeoutMs/);
    expect(() => createResponseCache({ bulkTimeoutMs: 0 }, open)).toThrow(/Invalid option bulkTimeoutMs/);
    expect(() => createResponseCache({ logger: console.log as never }, open)).toThrow(/Invalid option logger/);
    expect(() => createResponseCache({ validate: 'yes' as never }, open)).toThrow(/Invalid option validate/);
    expect(() => createResponseCache({ enableMetrics: 'no' as never }, open)).toThrow(/Invalid option enableMetrics/);
    expect(opened).toBe(0);
    const cache = createResponseCache({ defaultTtl: 60, namespace: 'app' }, open);
    expect(cache).toBeInstanceOf(ResponseCache);
    expect(opened).toBe(1);
    expect(cache.defaultTtl).toBe(60);
  });

  it('bulkTimeoutMs defaults to 20 deadlines', () => {
    expect(createResponseCache({ timeoutMs: 100 }, () => new ReferenceBackend()).bulkTimeoutMs).toBe(2000);
    expect(createResponseCache({ timeoutMs: 100, bulkTimeoutMs: 700 }, () => new ReferenceBackend()).bulkTimeoutMs).toBe(700);
  });

  it('rejects a backend that is not one', () => {
    expect(() => new ResponseCache({ backend: { get: () => undefined } as never })).toThrow(/Invalid option backend/);
  });
});
