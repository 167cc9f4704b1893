import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_VERSION, type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { post } from './helpers.js';

// Informational routes and model-name matching.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ models: ['Tiny', 'acme/big-model:70b', 'mxbai-embed-large'] });
});
afterAll(() => server.close());

describe('informational routes', () => {
  it('GET and HEAD / say Ollama is running', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Ollama is running');
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('GET /api/version reports a release version (L7: semver without a prerelease tag)', async () => {
    expect(await (await fetch(`${server.url}/api/version`)).json()).toEqual({ version: FAKE_VERSION });
    expect(FAKE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('GET /api/tags lists the configured models with tags and stable digests', async () => {
    const body = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Array<Record<string, unknown>> };
    expect(body.models.map((m) => m.name)).toEqual(['Tiny:latest', 'acme/big-model:70b', 'mxbai-embed-large:latest']);
    expect(body.models.map((m) => m.capabilities)).toEqual([['completion'], ['completion'], ['embedding']]);
    const again = (await (await fetch(`${server.url}/api/tags`)).json()) as typeof body;
    expect(again.models.map((m) => m.digest)).toEqual(body.models.map((m) => m.digest));
    expect(new Set(body.models.map((m) => m.digest)).size).toBe(3);
    expect(body.models[1]).toMatchObject({
      model: 'acme/big-model:70b',
      details: { format: 'gguf', parent_model: '', parameter_size: '70B', quantization_level: 'Q4_K_M', context_length: 32768 },
    });
  });

  it('POST /api/show accepts "model" or the deprecated "name"', async () => {
    const show = (await (await post(server.url, '/api/show', { name: 'tiny' })).json()) as Record<string, unknown>;
    for (const k of ['modelfile', 'parameters', 'template', 'details', 'model_info', 'capabilities', 'modified_at']) {
      expect(show).toHaveProperty(k);
    }
    expect(show.capabilities).toEqual(['completion']);
  });
});

describe('model matching', () => {
  it('matches without a tag (meaning :latest) and case-insensitively, echoing the name as sent', async () => {
    for (const model of ['tiny', 'TINY:Latest', 'Tiny:latest']) {
      const res = await post(server.url, '/api/generate', { model, prompt: 'x', stream: false });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model: string }).model).toBe(model);
    }
    expect((await post(server.url, '/api/generate', { model: 'tiny:7b', prompt: 'x' })).status).toBe(404);
    expect((await post(server.url, '/api/generate', { model: 'acme/big-model', prompt: 'x' })).status).toBe(404);
    // M6: every spelling of one name (types/model/name.go ParseName) reaches the same model.
    for (const model of ['library/tiny', 'registry.ollama.ai/library/Tiny:latest', 'registry.ollama.ai/acme/big-model:70b']) {
      expect((await post(server.url, '/api/generate', { model, prompt: 'x', stream: false })).status).toBe(200);
    }
    // A malformed name is 400 invalid model name (routes.go:66-75, model_resolver.go:36-55).
    for (const model of ['bad name!', 'tiny:', '/tiny', 'a/b/c/d']) {
      const res = await post(server.url, '/api/generate', { model, prompt: 'x' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid model name' });
    }
  });
});
