import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, startFakeOllama } from '../src/index.js';
import { raw } from './helpers.js';

// M2, L3, L5: how bodies and connections are framed, as Go's net/http and gin do it.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

const json = (path: string, body: unknown, method = 'POST') =>
  raw(server.url, path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('framing', () => {
  it('sends a body up to 2,048 bytes with Content-Length and a larger one chunked (net/http bufferBeforeChunkingSize)', async () => {
    const small = await json('/api/embed', { model: 'nomic-embed-text', input: 'x', dimensions: 4 });
    expect(small.headers['content-length']).toBe(String(Buffer.byteLength(small.body)));
    expect(small.headers['transfer-encoding']).toBeUndefined();
    const big = await json('/api/embed', { model: 'nomic-embed-text', input: ['x', 'y'] });
    expect(Buffer.byteLength(big.body)).toBeGreaterThan(2048);
    expect(big.headers['content-length']).toBeUndefined();
    expect(big.headers['transfer-encoding']).toBe('chunked');
    expect(big.headers['content-type']).toBe('application/json; charset=utf-8');
    const generate = await json('/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', stream: false, options: { num_predict: 400 } });
    expect(generate.headers['transfer-encoding']).toBe('chunked');
  });

  it("writes JSON as Go's encoding/json does: <, > and & inside strings escaped (\\u003c, \\u003e, \\u0026)", async () => {
    // Body of invalid JSON: Go's error names the character, and gin's c.JSON escapes it.
    const bad = await raw(server.url, '/api/generate', { method: 'POST', body: '<html>&' });
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('{"error":"invalid character \'\\u003c\' looking for beginning of value"}');
    expect(JSON.parse(bad.body).error).toBe("invalid character '<' looking for beginning of value");
    // The same on /v1 (its error shape, json.Encoder's trailing newline).
    const openai = await raw(server.url, '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '<' });
    expect(openai.body).toContain('\\u003c');
    expect(openai.body).not.toContain('<');
  });

  it('sends no Keep-Alive timeout header and keeps idle connections (routes.go:2009-2019 sets no timeouts)', async () => {
    const res = await raw(server.url, '/api/version');
    expect(res.headers['keep-alive']).toBeUndefined();
  });

  it('redirects a trailing slash like gin (301 for GET, 307 otherwise) and unclean paths like ServeMux (301)', async () => {
    // gin.go:197 and 720-731 (RedirectTrailingSlash); routes.go:2000 mounts the router on net/http's ServeMux.
    const get = await raw(server.url, '/api/tags/');
    expect(get.status).toBe(301);
    expect(get.headers.location).toBe('/api/tags');
    const post = await json('/api/chat/', {});
    expect(post.status).toBe(307);
    expect(post.headers.location).toBe('/api/chat');
    const unclean = await json('//api/chat', {});
    expect(unclean.status).toBe(301);
    expect(unclean.headers.location).toBe('/api/chat');
    expect((await raw(server.url, '/api/chat/')).status).toBe(404);
  });
});
