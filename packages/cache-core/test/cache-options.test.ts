import { CACHE_OPTIONS_COVERED, describeCacheOptions } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { CACHE_OPTION_NAMES } from '../src/cache-options.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

describe('the factory options suite', () => {
  it('covers every ResponseCache option (a new option needs a case there)', () => {
    expect([...CACHE_OPTIONS_COVERED].sort()).toEqual([...CACHE_OPTION_NAMES].sort());
  });
});

describeCacheOptions('new ResponseCache', (options) => new ResponseCache({ backend: new ReferenceBackend(), ...options }));
