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

  it('messages name what was wrong, and keep the cause', () => {
    expect(new InvalidOptionError('defaultTtl', -5, 'seconds >= 0').message).toBe('Invalid option defaultTtl: -5 (expected seconds >= 0)');
    expect(new InvalidKeyError(undefined).message).toContain('undefined');
    expect(new BackendError('redis', 'get', 'refused', { cause }).cause).toBe(cause);
    expect(new MissingPackageError('@tinyllm/cache-redis', 'The redis backend').message).toContain('npm install @tinyllm/cache-redis');
  });
});
