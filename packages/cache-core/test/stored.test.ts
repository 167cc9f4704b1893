import { sleep } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import type { CacheBackend } from '../src/contract.js';
import { ReferenceBackend } from '../src/reference-backend.js';
import { ResponseCache } from '../src/response-cache.js';

/** A reference backend whose writes wait until released (to observe the moment a write lands). */
function gatedBackend(): { backend: ReferenceBackend; release: () => void } {
  const backend = new ReferenceBackend();
  const set = backend.set.bind(backend);
  const waiting: Array<() => void> = [];
  backend.set = (key, entry) => new Promise((resolve) => waiting.push(() => resolve(set(key, entry))));
  const release = (): void => {
    for (const go of waiting.splice(0)) go();
  };
  return { backend, release };
}

describe('CacheResult.stored: whether the computed value was stored', () => {
  it('a miss: resolves true once the background write has landed, not before', async () => {
    const { backend, release } = gatedBackend();
    const cache = new ResponseCache({ backend });
    const result = await cache.resolve('k', () => 'v');
    expect(result.status).toBe('miss');
    let landed: boolean | undefined;
    void result.stored?.then((stored) => {
      landed = stored;
    });
    await sleep(20);
    expect(landed).toBeUndefined();
    release();
    expect(await result.stored).toBe(true);
    expect(await backend.get('k')).toMatchObject({ value: 'v' });
  });

  it('a refresh has it too; a hit does not', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    const refresh = await cache.resolve('k', () => 'v', { forceRefresh: true });
    expect(refresh.status).toBe('refresh');
    expect(await refresh.stored).toBe(true);
    const hit = await cache.resolve('k', () => 'other');
    expect(hit.status).toBe('hit');
    expect(hit.stored).toBeUndefined();
  });

  it('callers that coalesced share the flight’s promise', async () => {
    const { backend, release } = gatedBackend();
    const cache = new ResponseCache({ backend });
    let finish: (value: string) => void = () => {};
    const first = cache.resolve('k', () => new Promise<string>((resolve) => (finish = resolve)));
    await sleep(5);
    const second = cache.resolve('k', () => 'never computed');
    finish('v');
    const [a, b] = await Promise.all([first, second]);
    expect(b.status).toBe('coalesced');
    expect(b.stored).toBe(a.stored);
    // The write starts on the turn after the answer; release it once it waits at the gate.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await b.stored).toBe(true);
  });

  it.each([
    ['noStore', { noStore: true }],
    ['shouldStore said no', { shouldStore: () => false }],
    [
      'shouldStore threw',
      {
        shouldStore: (): boolean => {
          throw new Error('boom');
        },
      },
    ],
  ])('resolves false for %s', async (_name, options) => {
    const cache = new ResponseCache<string>({ backend: new ReferenceBackend() });
    const result = await cache.resolve('k', () => 'v', options);
    expect(await result.stored).toBe(false);
    expect(await cache.has('k')).toBe(false);
  });

  it('resolves false (never rejects) when the write failed, timed out or was refused', async () => {
    const failing: CacheBackend = Object.assign(new ReferenceBackend(), { set: () => Promise.reject(new Error('OOM command not allowed')) });
    expect(await (await new ResponseCache({ backend: failing }).resolve('k', () => 'v')).stored).toBe(false);
    const hanging: CacheBackend = Object.assign(new ReferenceBackend(), { set: () => new Promise(() => {}) });
    expect(await (await new ResponseCache({ backend: hanging, timeoutMs: 30 }).resolve('k', () => 'v')).stored).toBe(false);
    const refusing = new ResponseCache({ backend: new ReferenceBackend() });
    expect(await (await refusing.resolve('k', () => Symbol('not JSON'))).stored).toBe(false);
  });

  it('resolves false when the cache closed before the value was computed', async () => {
    const cache = new ResponseCache({ backend: new ReferenceBackend() });
    let finish: (value: string) => void = () => {};
    const pending = cache.resolve('k', () => new Promise<string>((resolve) => (finish = resolve)));
    await sleep(5);
    await cache.close();
    finish('late');
    expect(await (await pending).stored).toBe(false);
  });
});
