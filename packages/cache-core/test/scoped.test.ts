import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

describe('ResponseCache: clear and getStats of one namespace', () => {
  it('count and clear only the keys that cache derived under that namespace', async () => {
    const store = new Map<string, string>();
    const tenantA = new ResponseCache({ backend: new ReferenceBackend({ store }), namespace: 'tenant-a' });
    const tenantB = new ResponseCache({ backend: new ReferenceBackend({ store }), namespace: 'tenant-b' });
    const shared = new ResponseCache({ backend: new ReferenceBackend({ store }) });
    for (const prompt of ['one', 'two']) await tenantA.set(tenantA.generateCacheKey({ model: 'm', prompt }), prompt);
    await tenantB.set(tenantB.generateCacheKey({ model: 'm', prompt: 'one' }), 'one');
    expect((await shared.getStats({ namespace: 'tenant-a' })).backend?.entries).toBe(2);
    expect((await shared.getStats()).backend?.entries).toBe(3);
    expect(await shared.clear({ namespace: 'tenant-a' })).toBe(2);
    expect((await shared.getStats()).backend?.entries).toBe(1);
    expect(await tenantB.get(tenantB.generateCacheKey({ model: 'm', prompt: 'one' }))).toBe('one');
  });

  it('a bad namespace is the caller’s error, not a failed backend call', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    await expect(cache.clear({ namespace: '' })).rejects.toSatisfy(InvalidOptionError.isInstance);
    await expect(cache.getStats({ namespace: 42 as never })).rejects.toThrow(/Invalid option options.namespace/);
    expect(cache.getMetrics().errors).toBe(0);
  });
});
