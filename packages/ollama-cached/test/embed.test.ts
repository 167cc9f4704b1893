import { fakeEmbedding } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { cacheInfo } from '../src/index.js';
import { MODEL, setup } from './helpers.js';

const EMBED_MODEL = 'nomic-embed-text';

describe('embed', () => {
  it('caches embeddings by model, input and dimensions', async () => {
    const { server, client } = await setup();
    const first = await client.embed({ model: EMBED_MODEL, input: ['a', 'b'] });
    const second = await client.embed({ model: EMBED_MODEL, input: ['a', 'b'], keep_alive: '1m' });
    expect(server.modelCalls()).toBe(1);
    expect(cacheInfo(second)?.status).toBe('hit');
    expect(second.embeddings).toEqual(first.embeddings);
    expect(first.embeddings[0]).toEqual(fakeEmbedding(EMBED_MODEL, 'a')); // the model's native length (768)
    second.embeddings[0]?.fill(0);
    const third = await client.embed({ model: EMBED_MODEL, input: ['a', 'b'] });
    expect(third.embeddings).toEqual(first.embeddings);
    await client.embed({ model: EMBED_MODEL, input: ['a', 'b'], dimensions: 4 });
    await client.embed({ model: EMBED_MODEL, input: 'a' });
    expect(server.modelCalls()).toBe(3);
  });

  it('keeps embed and generate entries apart', async () => {
    const { server, client } = await setup();
    await client.generate({ model: MODEL, prompt: 'same text' });
    await client.embed({ model: EMBED_MODEL, input: 'same text' });
    expect(server.modelCalls()).toBe(2);
  });

  it('passes an empty input through uncached', async () => {
    const { server, client } = await setup();
    const empty = await client.embed({ model: EMBED_MODEL, input: [] });
    expect(empty.embeddings).toEqual([]);
    expect(cacheInfo(empty)?.status).toBe('bypass');
    await client.embed({ model: EMBED_MODEL, input: [] });
    expect(server.modelCalls()).toBe(2);
  });
});
