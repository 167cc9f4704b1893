import { MemoryBackend } from '@tinyllm/cache-memory';
import { describe, expect, it } from 'vitest';
import { cacheInfo, requestCacheKey } from '../src/index.js';
import { MODEL, setup } from './helpers.js';

describe('requestCacheKey', () => {
  it('is the key the cached client stores an answer under (generate, chat, the simple form, controls ignored)', async () => {
    const backend = new MemoryBackend();
    const { client } = await setup({ backend });
    const generate = { model: MODEL, prompt: 'keys', options: { temperature: 0 }, stream: false as const };
    const answer = await client.generate({ ...generate, cacheTtl: 60 });
    expect(await requestCacheKey('generate', generate)).toBe(cacheInfo(answer)?.key);
    const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    expect(await requestCacheKey('chat', chat)).toBe(cacheInfo(await client.chat(chat))?.key);
    const simple = { model: MODEL, prompt: 'simple', temperature: 0, max_tokens: 5 };
    expect(await requestCacheKey('generate', simple)).toBe(cacheInfo(await client.generate(simple))?.key);
    await client.flush();
    const listed: Array<{ key: string; endpoint: string | null; model: string | null }> = [];
    for await (const info of backend.list()) listed.push(info);
    expect(listed.find((info) => info.key === cacheInfo(answer)?.key)).toMatchObject({
      endpoint: 'generate',
      model: `${MODEL.includes(':') ? MODEL : `${MODEL}:latest`}`,
    });
    expect(await requestCacheKey('generate', { ...generate, prompt: 'other' })).not.toBe(cacheInfo(answer)?.key);
  });
});
