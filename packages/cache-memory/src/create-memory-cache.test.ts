import { InvalidOptionError } from '@tinyllm/cache-core';
import { describeCacheOptions, sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { createMemoryCache } from './create-memory-cache.js';
import { DEFAULT_MAX_BYTES, ENTRY_OVERHEAD_BYTES, MemoryBackend } from './memory-backend.js';

describeCacheOptions('createMemoryCache', (options) => createMemoryCache(options));

describe('createMemoryCache', () => {
  it('evicts the least recently used entry beyond maxSize and counts it', async () => {
    const cache = createMemoryCache({ maxSize: 2 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.set('c', 3);
    expect(await cache.has('b')).toBe(false);
    expect(await cache.get('a')).toBe(1);
    expect(cache.getMetrics().evictions).toBe(1);
  });

  it('never exceeds a byte budget, evicting least recently used entries', () => {
    const maxBytes = 50_000;
    const backend = new MemoryBackend({ maxSize: 10_000, maxBytes });
    for (let i = 0; i < 200; i++) {
      const value = { response: 'x'.repeat(500 + (i % 7) * 100) };
      backend.set(`key-${i}`, { value, createdAt: 0, expiresAt: null, accessCount: 0, lastAccess: 0, sizeBytes: JSON.stringify(value).length });
      expect(backend.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    const { entries, evictions, bytes } = backend.stats();
    expect(entries).toBeGreaterThan(40);
    expect(evictions).toBe(200 - entries);
    expect(bytes).toBeGreaterThan(maxBytes * 0.95);
  });

  it('has a byte budget by default (DEFAULT_MAX_BYTES, 256 MiB): entries are evicted past it, a larger one is refused', () => {
    expect(DEFAULT_MAX_BYTES).toBe(256 * 1024 * 1024);
    const backend = new MemoryBackend();
    // The accounted size is the entry's sizeBytes (+ key + overhead): large answers without the heap.
    const MiB = 1024 * 1024;
    const entry = (sizeBytes: number) => ({ value: 'v', createdAt: 0, expiresAt: null, accessCount: 0, lastAccess: 0, sizeBytes });
    for (let i = 0; i < 5; i++) backend.set(`big-${i}`, entry(60 * MiB));
    const { entries, bytes, evictions } = backend.stats();
    expect(entries).toBe(4);
    expect(evictions).toBe(1);
    expect(bytes).toBeLessThanOrEqual(DEFAULT_MAX_BYTES);
    expect(backend.has('big-0')).toBe(false);
    expect(backend.set('huge', entry(300 * MiB))).toBe(false);
  });

  it('refuses an entry larger than the whole budget: set resolves false, counts it, and drops the old value', async () => {
    const cache = createMemoryCache({ maxBytes: 1000 });
    const refusals: string[] = [];
    cache.on('writeFailed', ({ key, reason }) => refusals.push(`${key} ${reason}`));
    expect(await cache.set('big', 'small at first')).toBe(true);
    expect(await cache.set('big', 'y'.repeat(2000))).toBe(false);
    expect(await cache.has('big')).toBe(false);
    expect((await cache.getStats()).backend?.bytes).toBe(0);
    expect(cache.getMetrics()).toMatchObject({ sets: 1, errors: 1 });
    expect(refusals).toEqual(['big refused']);
    expect(ENTRY_OVERHEAD_BYTES).toBeGreaterThan(0);
  });

  it('refuses a value JSON cannot carry instead of returning it as is', async () => {
    const cache = createMemoryCache<unknown>();
    const fn = () => 'a function';
    expect(await cache.set('k', fn)).toBe(false);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('u', undefined)).toBe(false);
    expect(await cache.has('u')).toBe(false);
  });

  it('returns values no caller can change', async () => {
    const cache = createMemoryCache();
    const original = { response: 'hi', nested: { list: [1] } };
    await cache.set('k', original);
    original.response = 'changed by the caller after set';
    const hit = (await cache.get('k')) as typeof original;
    expect(hit.response).toBe('hi');
    expect(() => {
      hit.nested.list.push(2);
    }).toThrow(TypeError);
    expect(await cache.get('k')).toEqual({ response: 'hi', nested: { list: [1] } });
  });

  it('never returns an expired entry, and counts the access of a live one', async () => {
    const cache = createMemoryCache({ defaultTtl: 0.1 });
    await cache.set('k', 'v');
    await cache.get('k');
    expect((await cache.getEntry('k'))?.accessCount).toBe(2);
    await sleep(200);
    expect(await cache.get('k')).toBeUndefined();
    expect((await cache.getStats()).backend?.entries).toBe(0);
  });

  it.each([
    ['maxSize', { maxSize: 0 }],
    ['maxSize', { maxSize: 1.5 }],
    ['maxBytes', { maxBytes: -1 }],
    ['defaultTtl', { defaultTtl: -1 }],
    ['defaultTtl', { defaultTtl: 0 }],
    ['timeoutMs', { timeoutMs: 0 }],
  ])('rejects a bad %s with InvalidOptionError naming it', (option, options) => {
    expect(() => createMemoryCache(options)).toThrow(InvalidOptionError);
    expect(() => createMemoryCache(options)).toThrow(new RegExp(`Invalid option ${option}`));
  });

  it('loads no Redis or SQLite code', async () => {
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `await import(${JSON.stringify(entry)}); const { createRequire } = await import('node:module'); console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    // The built entry point is what users import; list the CommonJS modules it pulled in (ioredis and
    // better-sqlite3 are CommonJS, and an ESM import of them lands in this cache too).
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(loaded).not.toMatch(/ioredis|better-sqlite3|redis/);
  });
});
