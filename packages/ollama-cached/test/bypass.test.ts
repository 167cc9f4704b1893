import { describe, expect, it } from 'vitest';
import { cacheInfo } from '../src/index.js';
import { collect, MODEL, setup } from './helpers.js';

describe('enableCache: false', () => {
  it('passes every call straight through with status bypass', async () => {
    const { server, client } = await setup({ enableCache: false });
    expect(client.cacheEnabled).toBe(false);
    expect(client.responseCache).toBeUndefined();
    const a = await client.generate({ model: MODEL, prompt: 'bypass', temperature: 0 });
    const b = await client.generate({ model: MODEL, prompt: 'bypass', temperature: 0 });
    expect(cacheInfo(a)).toEqual({ status: 'bypass', key: '' });
    expect(cacheInfo(b)?.status).toBe('bypass');
    const stream = await client.generate({ model: MODEL, prompt: 'bypass', stream: true });
    expect(cacheInfo(stream)?.status).toBe('bypass');
    expect((await collect(stream)).at(-1)?.done).toBe(true);
    expect(server.modelCalls()).toBe(3);
    // the simple form is still translated and the cache controls never reach Ollama
    expect(server.requests[0]?.body).toEqual({ model: MODEL, prompt: 'bypass', options: { temperature: 0 }, stream: false });
    await client.ready();
    expect(await client.clearCache()).toBe(0);
  });
});
