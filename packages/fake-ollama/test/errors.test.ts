import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// Client errors: 400s, 404s and 405s with Ollama's (Go's) wording.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

async function errorOf(res: Response): Promise<{ status: number; error: string }> {
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe('request errors', () => {
  it.each(['/api/generate', '/api/chat', '/api/embed', '/api/embeddings', '/api/show'])('%s: empty body and bad JSON', async (path) => {
    expect(await errorOf(await post(server.url, path, ''))).toEqual({ status: 400, error: 'missing request body' });
    const bad = await errorOf(await post(server.url, path, '{"model": nope}'));
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/^invalid character 'o'/);
  });

  // M1: routes.go:261-265 (generate) and 808-812 (embed) fall back to 404 model '' not found
  // (pinned by routes_generate_test.go:1545-1565); chat, show and embeddings say model is required.
  it.each([
    ['/api/generate', 404, "model '' not found"],
    ['/api/embed', 404, "model '' not found"],
    ['/api/chat', 400, 'model is required'],
    ['/api/embeddings', 400, 'model is required'],
    ['/api/show', 400, 'model is required'],
  ])('%s without a model: %i %s', async (path, status, error) => {
    expect(await errorOf(await post(server.url, path, '{"prompt":"x"}'))).toEqual({ status, error });
    expect(await errorOf(await post(server.url, path, 'null'))).toEqual({ status, error });
  });

  it('reports truncated JSON as unexpected EOF and non-objects as unmarshal errors', async () => {
    expect((await errorOf(await post(server.url, '/api/generate', '{"model":'))).error).toBe('unexpected EOF');
    expect((await errorOf(await post(server.url, '/api/generate', '[1]'))).error).toMatch(/cannot unmarshal array/);
    expect((await errorOf(await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 5 }))).error).toMatch(
      /GenerateRequest\.prompt of type string/,
    );
  });

  it('answers 404 for unknown models with route-specific wording', async () => {
    expect(await errorOf(await post(server.url, '/api/generate', { model: 'Missing:7b', prompt: 'x' }))).toEqual({
      status: 404,
      error: "model 'Missing:7b' not found",
    });
    expect(await errorOf(await post(server.url, '/api/chat', { model: 'missing', messages: [] }))).toEqual({
      status: 404,
      error: "model 'missing' not found",
    });
    expect(await errorOf(await post(server.url, '/api/embed', { model: 'missing', input: 'x' }))).toEqual({
      status: 404,
      error: 'model "missing" not found, try pulling it first',
    });
    // M7: /api/show's 404 names the normalised model (routes.go:1355-1368).
    expect(await errorOf(await post(server.url, '/api/show', { model: 'missing' }))).toEqual({
      status: 404,
      error: "model 'missing:latest' not found",
    });
  });

  it('refuses to generate with an embedding model', async () => {
    expect(await errorOf(await post(server.url, '/api/generate', { model: 'nomic-embed-text', prompt: 'x' }))).toEqual({
      status: 400,
      error: '"nomic-embed-text" does not support generate',
    });
  });

  it('answers unknown routes with Go-style 404 text and wrong methods with 405', async () => {
    // L1, L2: gin's plain-text 404/405 (no charset), Allow in route-tree order (gin.go:650-690).
    const res = await fetch(`${server.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('404 page not found');
    const wrong = await fetch(`${server.url}/api/generate`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const tags = await post(server.url, '/api/tags', {});
    expect(tags.status).toBe(405);
    expect(tags.headers.get('allow')).toBe('HEAD, GET');
  });
});
