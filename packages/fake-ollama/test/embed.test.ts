import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeEmbedding, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// POST /api/embed over raw HTTP.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

type EmbedBody = { model: string; embeddings: number[][]; total_duration?: number; prompt_eval_count?: number };

async function embed(body: unknown): Promise<{ status: number; body: EmbedBody }> {
  const res = await post(server.url, '/api/embed', body);
  return { status: res.status, body: (await res.json()) as EmbedBody };
}

describe('embed', () => {
  it('embeds a single string as one predictable vector', async () => {
    const { status, body } = await embed({ model: 'nomic-embed-text', input: 'hello world' });
    expect(status).toBe(200);
    expect(body.embeddings).toEqual([fakeEmbedding('nomic-embed-text', 'hello world')]);
    expect(body.prompt_eval_count).toBe(2);
    expect(body.total_duration).toBeGreaterThan(0);
  });

  it("answers vectors of the model's native length", async () => {
    // routes.go:983-992: the runner's vector, 768 floats for nomic-embed-text.
    const { body } = await embed({ model: 'nomic-embed-text', input: 'x' });
    expect(body.embeddings[0]).toHaveLength(768);
  });

  it('honours dimensions below the native length and ignores larger or negative ones', async () => {
    // routes.go:983-992: truncate and re-normalise only when 0 < dimensions < native length.
    for (const dimensions of [768, 1000, -3]) {
      const { status, body } = await embed({ model: 'nomic-embed-text', input: 'x', dimensions });
      expect(status).toBe(200);
      expect(body.embeddings[0]).toHaveLength(768);
    }
    const { body } = await embed({ model: 'nomic-embed-text', input: ['x', 'y', 'z'], dimensions: 32 });
    expect(body.embeddings).toHaveLength(3);
    for (const v of body.embeddings) {
      expect(v).toHaveLength(32);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
  });

  it('answers an empty list (or empty string) with no embeddings', async () => {
    expect((await embed({ model: 'nomic-embed-text', input: [] })).body).toEqual({ model: 'nomic-embed-text', embeddings: [] });
    expect((await embed({ model: 'nomic-embed-text', input: '' })).body).toEqual({ model: 'nomic-embed-text', embeddings: [] });
  });

  it('rejects non-string inputs and non-integer dimensions with 400', async () => {
    expect(await embed({ model: 'nomic-embed-text', input: [1] })).toEqual({ status: 400, body: { error: 'invalid input type' } });
    // encoding/json decoding into EmbedRequest.Dimensions (int).
    expect(await embed({ model: 'nomic-embed-text', input: 'x', dimensions: 1.5 })).toEqual({
      status: 400,
      body: { error: 'json: cannot unmarshal number 1.5 into Go struct field EmbedRequest.dimensions of type int' },
    });
    // routes.go:820-852: input is type-checked before the model is looked up (L10).
    expect(await embed({ model: 'missing', input: 5 })).toEqual({ status: 400, body: { error: 'invalid input type' } });
  });

  it('lets completion models embed too (like Ollama)', async () => {
    expect((await embed({ model: 'qwen2.5:0.5b', input: 'x' })).body.embeddings).toHaveLength(1);
  });
});
