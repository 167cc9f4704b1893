import { Ollama } from 'ollama';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { ndjson, post, raw } from './helpers.js';

// §1.4 and M8: the management routes a pass-through proxy must carry, with a small model registry.
let server: FakeOllamaServer;
beforeEach(async () => {
  server = await startFakeOllama({ pullIntervalMs: 5, pullSteps: 2 });
});
afterEach(() => server.close());

async function tagNames(): Promise<string[]> {
  const body = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
  return body.models.map((m) => m.name);
}

describe('GET /api/ps', () => {
  it('lists models loaded by calls, longest expiry first, and forgets unloaded ones (routes.go:2271-2303)', async () => {
    expect(await (await fetch(`${server.url}/api/ps`)).json()).toEqual({ models: [] });
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', stream: false });
    await post(server.url, '/api/embed', { model: 'nomic-embed-text', input: 'x', keep_alive: '1h' });
    const ps = (await (await fetch(`${server.url}/api/ps`)).json()) as { models: Array<Record<string, unknown>> };
    expect(ps.models.map((m) => m.name)).toEqual(['nomic-embed-text:latest', 'qwen2.5:0.5b']);
    for (const m of ps.models) for (const k of ['model', 'size', 'digest', 'details', 'expires_at', 'size_vram', 'context_length']) expect(m).toHaveProperty(k);
    await post(server.url, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: 0 });
    const after = (await (await fetch(`${server.url}/api/ps`)).json()) as { models: Array<{ name: string }> };
    expect(after.models.map((m) => m.name)).toEqual(['nomic-embed-text:latest']);
  });
});

describe('POST /api/pull', () => {
  it("streams NDJSON progress in Ollama's order, then lists the model (server/images.go:1021-1122)", async () => {
    const res = await post(server.url, '/api/pull', { model: 'gemma3:1b' });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = await ndjson(res);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    const layer = lines[1] as { status: string; digest: string; total: number; completed: number };
    expect(layer.status).toMatch(/^pulling [0-9a-f]{12}$/);
    expect(layer.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(layer.completed).toBe(0);
    expect(lines.slice(-3)).toEqual([{ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' }]);
    expect((await tagNames())[0]).toBe('gemma3:1b');
    const show = (await (await post(server.url, '/api/show', { model: 'gemma3:1b' })).json()) as { capabilities: string[] };
    expect(show.capabilities).toEqual(['completion', 'vision']);
  });

  it('paces its lines at pullIntervalMs, so a buffering proxy is visible', async () => {
    server.setPullInterval(60);
    const res = await fetch(`${server.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: 'x:1b' }) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const t0 = performance.now();
    expect(new TextDecoder().decode(first.value)).toBe('{"status":"pulling manifest"}\n');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    // 12 more lines after the first, 60 ms apart: the first line came well before the end.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(600);
    expect(rest.trim().split('\n')).toHaveLength(12);
  });

  it('with stream:false answers one {"status":"success"} as application/json (routes.go:2070-2095)', async () => {
    const res = await post(server.url, '/api/pull', { model: 'tinyllama', stream: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'success' });
    expect(await tagNames()).toContain('tinyllama:latest');
  });

  it('a midstream fault sends an error line under the 200 and lists nothing', async () => {
    server.failNext({ kind: 'midstream', afterChunks: 2, route: '/api/pull' });
    const lines = await ndjson(await post(server.url, '/api/pull', { model: 'broken:1b' }));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toEqual({ error: 'pull model manifest: file does not exist' });
    expect(await tagNames()).not.toContain('broken:1b');
    server.failNext({ kind: 'status', status: 500, route: '/api/pull' });
    expect((await post(server.url, '/api/pull', { model: 'broken:1b', stream: false })).status).toBe(500);
  });

  it('refuses a malformed name with 400 invalid model name', async () => {
    const res = await post(server.url, '/api/pull', { model: 'bad name!' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid model name' });
  });

  it('works through the official client, streamed', async () => {
    const client = new Ollama({ host: server.url });
    const statuses: string[] = [];
    for await (const p of await client.pull({ model: 'smollm2:135m', stream: true })) statuses.push(p.status);
    expect(statuses.at(-1)).toBe('success');
  });
});

describe('POST /api/push', () => {
  it('streams progress for a listed model and fails an unknown one', async () => {
    const lines = await ndjson(await post(server.url, '/api/push', { model: 'qwen2.5:0.5b' }));
    expect(lines[0]).toEqual({ status: 'retrieving manifest' });
    expect(lines.at(-1)).toEqual({ status: 'success' });
    const missing = await post(server.url, '/api/push', { model: 'nope:1b' });
    expect(missing.status).toBe(500);
    expect(await post(server.url, '/api/push', {}).then((r) => r.json())).toEqual({ error: 'model is required' });
  });
});

describe('POST /api/create, DELETE /api/delete, POST /api/copy', () => {
  it('creates from a listed model, inheriting its capabilities', async () => {
    const lines = await ndjson(await post(server.url, '/api/create', { model: 'mario', from: 'qwen3:0.6b', system: 'You are Mario.' }));
    expect(lines[0]?.status).toMatch(/^using existing layer sha256:[0-9a-f]{64}$/);
    expect(lines.slice(-2)).toEqual([{ status: 'writing manifest' }, { status: 'success' }]);
    expect((await tagNames())[0]).toBe('mario:latest');
    const show = (await (await post(server.url, '/api/show', { model: 'mario' })).json()) as { capabilities: string[] };
    expect(show.capabilities).toContain('thinking');
    expect((await post(server.url, '/api/create', { model: 'x', files: { 'a.gguf': 'sha256:nothex' } })).status).toBe(400);
  });

  it('deletes with a JSON body on DELETE: 200 and an empty body; 404 and 400 as Ollama (routes.go:1247-1298)', async () => {
    const res = await raw(server.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ model: 'llama3.2' }) });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    expect(await tagNames()).not.toContain('llama3.2:latest');
    const again = await raw(server.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ model: 'llama3.2' }) });
    expect(again.status).toBe(404);
    expect(JSON.parse(again.body)).toEqual({ error: "model 'llama3.2' not found" });
    const bad = await raw(server.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ name: 'bad name!' }) });
    expect(JSON.parse(bad.body)).toEqual({ error: 'name "bad name!" is invalid' });
    expect((await post(server.url, '/api/delete', { model: 'x' })).status).toBe(405);
  });

  it('copies a model under a new name with the same digest (routes.go:1647-1686)', async () => {
    const res = await raw(server.url, '/api/copy', { method: 'POST', body: JSON.stringify({ source: 'qwen2.5:0.5b', destination: 'my-qwen:v1' }) });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Array<{ name: string; digest: string }> };
    const digest = (n: string) => tags.models.find((m) => m.name === n)?.digest;
    expect(digest('my-qwen:v1')).toBe(digest('qwen2.5:0.5b'));
    expect((await post(server.url, '/api/generate', { model: 'my-qwen:v1', prompt: 'x', stream: false })).status).toBe(200);
    expect(await (await post(server.url, '/api/copy', { source: 'nope', destination: 'x' })).json()).toEqual({ error: 'model "nope" not found' });
    expect(await (await post(server.url, '/api/copy', { source: 'qwen2.5:0.5b', destination: 'bad name!' })).json()).toEqual({
      error: 'destination "bad name!" is invalid',
    });
  });

  it('counts every management request', async () => {
    await post(server.url, '/api/copy', { source: 'qwen2.5:0.5b', destination: 'c' });
    await raw(server.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ model: 'c' }) });
    expect(server.counts['/api/copy']).toBe(1);
    expect(server.counts['/api/delete']).toBe(1);
    expect(server.modelCalls()).toBe(0);
  });
});
