import { describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

// The fake enforces Ollama's guards (on by default on a loopback bind, as Ollama does): a Host that
// is not local and an Origin outside OLLAMA_ORIGINS + the local origins both get 403 with no body.
describe("Host and Origin against a fake that enforces Ollama's guards", () => {
  const stack = useStack({}, { allowedOrigins: ['https://app.example.com', 'http://localhost:*'] });

  it('a client that calls the proxy by its public name gets answers (Ollama gets its own Host)', async () => {
    const headers = { Host: 'proxy.example.com:11435' };
    const direct = await send(stack.fake.url, '/api/tags', { headers });
    expect(direct.status).toBe(403);
    expect(direct.body.length).toBe(0);
    const proxied = await send(stack.proxy.url, '/api/tags', { headers });
    expect(proxied.status).toBe(200);
    expect(JSON.parse(proxied.text).models.length).toBeGreaterThan(0);
    const generated = await send(stack.proxy.url, '/api/generate', { method: 'POST', headers, body: '{"model":"qwen2.5:0.5b","prompt":"hi","stream":false}' });
    expect(generated.status).toBe(200);
  });

  it('a page the proxy allows gets its answer with CORS headers, even one Ollama itself would refuse (Origin is not forwarded)', async () => {
    const headers = { Origin: 'https://app.example.com' };
    expect((await send(stack.fake.url, '/api/tags', { headers })).status).toBe(403);
    const proxied = await send(stack.proxy.url, '/api/tags', { headers });
    expect(proxied.status).toBe(200);
    expect(proxied.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(proxied.headers.vary).toBe('Origin');
    expect(proxied.headers['access-control-expose-headers']).toBe('X-Cache,Age,X-TinyLLM-Key');
    const chat = await send(stack.proxy.url, '/api/chat', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: '{"model":"qwen2.5:0.5b","messages":[{"role":"user","content":"hi"}],"stream":false}',
    });
    expect(chat.status).toBe(200);
    expect(chat.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('a page the proxy does not allow gets 403 with an empty body, as from Ollama, and nothing is forwarded', async () => {
    const before = stack.fake.counts['/api/tags'] ?? 0;
    const reply = await send(stack.proxy.url, '/api/tags', { headers: { Origin: 'https://evil.example.com' } });
    expect(reply.status).toBe(403);
    expect(reply.body.length).toBe(0);
    expect(reply.headers['content-length']).toBe('0');
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(stack.fake.counts['/api/tags'] ?? 0).toBe(before);
  });

  it('a preflight from an allowed origin succeeds (204 with the CORS headers); from a foreign one it is refused', async () => {
    const allowed = await send(stack.proxy.url, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-tinyllm-ttl' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.body.length).toBe(0);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(allowed.headers['access-control-allow-methods']).toBe('GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS');
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('x-tinyllm-ttl');
    expect(allowed.headers['access-control-max-age']).toBe('43200');
    const foreign = await send(stack.proxy.url, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.length).toBe(0);
  });

  it('an Origin naming the proxy itself is same-origin: answered, without CORS headers', async () => {
    const host = new URL(stack.proxy.url).host;
    const reply = await send(stack.proxy.url, '/api/version', { headers: { Origin: `http://${host}` } });
    expect(reply.status).toBe(200);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('OPTIONS without an Origin passes through, and Ollama answers it for its own Host', async () => {
    const reply = await send(stack.proxy.url, '/api/chat', { method: 'OPTIONS', headers: { Host: 'proxy.example.com' } });
    const direct = await send(stack.fake.url, '/api/chat', { method: 'OPTIONS' });
    expect(reply.status).toBe(direct.status);
  });
});

describe("the default allow-list is Ollama's own", () => {
  const stack = useStack();

  it('a local page (http://localhost:3000) is allowed; any other origin is not', async () => {
    expect((await send(stack.proxy.url, '/api/tags', { headers: { Origin: 'http://localhost:3000' } })).status).toBe(200);
    expect((await send(stack.proxy.url, '/api/tags', { headers: { Origin: 'vscode-webview://abc' } })).status).toBe(200);
    expect((await send(stack.proxy.url, '/api/tags', { headers: { Origin: 'https://app.example.com' } })).status).toBe(403);
  });
});
