import { describe, expect, it } from 'vitest';
import { MODEL, setup } from './helpers.js';

describe('getStats', () => {
  it('counts hits, misses and what the hits saved', async () => {
    const { client } = await setup();
    const a = await client.generate({ model: MODEL, prompt: 'stats a' });
    const b = await client.generate({ model: MODEL, prompt: 'stats b' });
    await client.generate({ model: MODEL, prompt: 'stats a' });
    await client.generate({ model: MODEL, prompt: 'stats a' });
    await client.generate({ model: MODEL, prompt: 'stats b' });
    await client.generate({ model: MODEL, prompt: '' }); // a load request: bypassed
    const stats = await client.getStats();
    expect(stats.cache).toMatchObject({ hits: 3, misses: 2, sets: 2, errors: 0, coalesced: 0, totalRequests: 5, entries: 2 });
    expect(stats.cache.hitRate).toBeCloseTo(3 / 5);
    expect(stats.cache.bytes).toBeGreaterThan(0);
    expect(stats.client).toEqual({ requests: 6, upstreamCalls: 3, upstreamErrors: 0, bypassed: 1, cacheFailures: 0, stale: 0, noDigest: 0 });
    expect(stats.saved.durationNs).toBe(2 * a.total_duration + b.total_duration);
    expect(stats.saved.tokens).toBe(2 * (a.eval_count + a.prompt_eval_count) + (b.eval_count + b.prompt_eval_count));
  });

  it('reports zeros with the cache disabled', async () => {
    const { client } = await setup({ enableCache: false });
    await client.generate({ model: MODEL, prompt: 'x' });
    const stats = await client.getStats();
    expect(stats.cache).toMatchObject({ hits: 0, misses: 0, totalRequests: 0 });
    expect(stats.client).toEqual({ requests: 1, upstreamCalls: 1, upstreamErrors: 0, bypassed: 1, cacheFailures: 0, stale: 0, noDigest: 0 });
    expect(stats.saved).toEqual({ durationNs: 0, tokens: 0 });
  });
});
