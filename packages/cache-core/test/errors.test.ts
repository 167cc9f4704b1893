import { describe, expect, it } from 'vitest';
import {
  BackendClosedError,
  BackendError,
  CacheDecodeError,
  CacheTimeoutError,
  InvalidKeyError,
  InvalidOptionError,
  MissingPackageError,
  TinyLLMError,
  UnstorableValueError,
} from '../src/errors.js';

describe('typed errors', () => {
  const cause = new Error('ECONNREFUSED');
  const errors = [
    [new InvalidOptionError('maxSize', 0, 'an integer >= 1'), 'TINYLLM_INVALID_OPTION', InvalidOptionError],
    [new InvalidKeyError(42), 'TINYLLM_INVALID_KEY', InvalidKeyError],
    [new BackendClosedError('redis', 'get'), 'TINYLLM_BACKEND_CLOSED', BackendClosedError],
    [new BackendError('redis', 'get', 'connection refused', { cause }), 'TINYLLM_BACKEND_ERROR', BackendError],
    [new CacheTimeoutError('redis', 'get', 250), 'TINYLLM_CACHE_TIMEOUT', CacheTimeoutError],
    [new CacheDecodeError('bad'), 'TINYLLM_DECODE_ERROR', CacheDecodeError],
    [new MissingPackageError('@tinyllm/cache-redis', 'The redis backend'), 'TINYLLM_MISSING_PACKAGE', MissingPackageError],
    [new UnstorableValueError(() => 1), 'TINYLLM_UNSTORABLE_VALUE', UnstorableValueError],
  ] as const;

  it.each(errors.map(([error, code, type]) => [code, error, type] as const))('%s has its code, its name and isInstance', (code, error, type) => {
    expect(error.code).toBe(code);
    expect(error.name).toBe(type.name);
    expect(type.isInstance(error)).toBe(true);
    expect(TinyLLMError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
  });

  it('isInstance tells the classes apart and rejects look-alikes', () => {
    expect(InvalidKeyError.isInstance(new InvalidOptionError('a', 1, 'b'))).toBe(false);
    expect(TinyLLMError.isInstance(new Error('x'))).toBe(false);
    expect(TinyLLMError.isInstance({ code: 'TINYLLM_INVALID_KEY' })).toBe(false);
    expect(TinyLLMError.isInstance(null)).toBe(false);
  });

  it('every backend error names the backend and the operation', () => {
    expect(new BackendClosedError('redis', 'get')).toMatchObject({ backend: 'redis', operation: 'get' });
    expect(new BackendError('sqlite', 'set', 'busy')).toMatchObject({ backend: 'sqlite', operation: 'set' });
    expect(new CacheTimeoutError('redis', 'has', 250)).toMatchObject({ backend: 'redis', operation: 'has', timeoutMs: 250 });
    expect(new CacheDecodeError('bad', { backend: 'redis', operation: 'get' })).toMatchObject({ backend: 'redis', operation: 'get', detail: 'bad' });
    expect(new CacheDecodeError('bad').message).toBe('Cannot decode cache entry: bad');
    expect(new CacheDecodeError('bad', { backend: 'redis', operation: 'get' }).message).toBe('redis backend: get: Cannot decode cache entry: bad');
  });

  it('another package owns its codes: a subclass declares its own union, and isInstance still holds', () => {
    type OtherCode = 'TINYLLM_OTHER_THING';
    class OtherError extends TinyLLMError<OtherCode> {
      constructor() {
        super('TINYLLM_OTHER_THING', 'other');
      }
    }
    const error = new OtherError();
    const code: OtherCode = error.code;
    expect(code).toBe('TINYLLM_OTHER_THING');
    expect(TinyLLMError.isInstance(error)).toBe(true);
    expect(InvalidOptionError.isInstance(error)).toBe(false);
  });

  it('messages name what was wrong, and keep the cause', () => {
    expect(new InvalidOptionError('defaultTtl', -5, 'seconds >= 0').message).toBe('Invalid option defaultTtl: -5 (expected seconds >= 0)');
    expect(new InvalidKeyError(undefined).message).toContain('undefined');
    expect(new BackendError('redis', 'get', 'refused', { cause }).cause).toBe(cause);
    expect(new MissingPackageError('@tinyllm/cache-redis', 'The redis backend').message).toContain('npm install @tinyllm/cache-redis');
  });
});
