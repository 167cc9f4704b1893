import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeEmbedding, fakeLegacyEmbedding, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// H5 (and issue 8, item 23): the legacy POST /api/embeddings route (EmbeddingsHandler, routes.go:1042-1100).
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

describe('POST /api/embeddings', () => {
  it('answers {"embedding": [...]} with no model and no metrics, not normalised', async () => {
    const res = await post(server.url, '/api/embeddings', { model: 'nomic-embed-text', prompt: 'hello world' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['embedding']);
    const v = body.embedding as number[];
    expect(v).toEqual(fakeLegacyEmbedding('nomic-embed-text', 'hello world'));
    expect(v).toHaveLength(768);
    expect(Math.hypot(...v)).toBeGreaterThan(1.5);
    // Same direction as /api/embed's normalised vector.
    const unit = fakeEmbedding('nomic-embed-text', 'hello world');
    const norm = Math.hypot(...v);
    for (const [i, x] of v.slice(0, 8).entries()) expect(x / norm).toBeCloseTo(unit[i] ?? 0, 9);
  });

  it('answers an empty prompt with an empty embedding (it loads the model)', async () => {
    expect(await (await post(server.url, '/api/embeddings', { model: 'nomic-embed-text', prompt: '' })).json()).toEqual({ embedding: [] });
  });

  it("has Ollama's errors: 400 model is required, 404 try pulling it first", async () => {
    expect(await (await post(server.url, '/api/embeddings', { prompt: 'x' })).json()).toEqual({ error: 'model is required' });
    const missing = await post(server.url, '/api/embeddings', { model: 'nope', prompt: 'x' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'model "nope" not found, try pulling it first' });
  });

  it("serves the official client's embeddings() and counts as a model call", async () => {
    server.resetCounts();
    const res = await new Ollama({ host: server.url }).embeddings({ model: 'nomic-embed-text', prompt: 'cached vectors' });
    expect(res.embedding).toEqual(fakeLegacyEmbedding('nomic-embed-text', 'cached vectors'));
    expect(server.modelCalls()).toBe(1);
    expect(server.requests).toEqual([{ route: '/api/embeddings', body: { model: 'nomic-embed-text', prompt: 'cached vectors' } }]);
  });
});
