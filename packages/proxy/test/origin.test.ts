import { describe, expect, it } from 'vitest';
import { classify, createOriginPolicy, isSameOrigin, OLLAMA_LOCAL_ORIGINS, ollamaDefaultOrigins } from '../src/index.js';

describe("origin policy (Ollama's rules by default)", () => {
  const ollama = createOriginPolicy(ollamaDefaultOrigins({}));

  it.each([
    'http://localhost',
    'https://localhost',
    'http://localhost:3000',
    'https://127.0.0.1:8443',
    'http://0.0.0.0:8080',
    'app://obsidian.md',
    'file://',
    'tauri://localhost',
    'vscode-webview://abc',
    'vscode-file://vscode-app',
  ])('allows %s', (origin) => {
    expect(ollama.allows(origin)).toBe(true);
  });

  it.each(['https://evil.example.com', 'http://localhost.evil.com', 'http://127.0.0.2:3000', 'chrome-extension://abcdef', 'null', 'http://LOCALHOST:3000'])(
    'refuses %s',
    (origin) => {
      expect(ollama.allows(origin)).toBe(false);
    },
  );

  it('reads OLLAMA_ORIGINS first (comma-separated, trimmed, wildcards)', () => {
    const origins = ollamaDefaultOrigins({ OLLAMA_ORIGINS: ' https://app.example.com , https://*.corp.example, chrome-extension://abc ' });
    expect(origins.slice(0, 3)).toEqual(['https://app.example.com', 'https://*.corp.example', 'chrome-extension://abc']);
    expect(origins.slice(3)).toEqual([...OLLAMA_LOCAL_ORIGINS]);
    const policy = createOriginPolicy(origins);
    expect(policy.allows('https://app.example.com')).toBe(true);
    expect(policy.allows('https://wiki.corp.example')).toBe(true);
    expect(policy.allows('chrome-extension://abc')).toBe(true);
    expect(policy.allows('https://app.example.com.evil')).toBe(false);
    expect(policy.allowAll).toBe(false);
  });

  it('"*" allows every origin', () => {
    const policy = createOriginPolicy(['*']);
    expect(policy.allowAll).toBe(true);
    expect(policy.allows('https://anything.example')).toBe(true);
  });

  it('patterns are compared lower-cased, as gin-contrib/cors normalises them', () => {
    expect(createOriginPolicy(['HTTPS://App.Example.com']).allows('https://app.example.com')).toBe(true);
  });

  it('an Origin naming the Host itself is not cross-origin', () => {
    expect(isSameOrigin('http://proxy.lan:11435', 'proxy.lan:11435')).toBe(true);
    expect(isSameOrigin('https://proxy.lan:11435', 'proxy.lan:11435')).toBe(true);
    expect(isSameOrigin('http://other.lan', 'proxy.lan:11435')).toBe(false);
    expect(isSameOrigin('http://proxy.lan', undefined)).toBe(false);
  });
});

describe('route table', () => {
  it.each([
    ['POST', '/api/generate', 'cached', 'generate', 'ollama'],
    ['POST', '/api/chat', 'cached', 'chat', 'ollama'],
    ['POST', '/api/embed', 'cached', 'embed', 'ollama'],
    ['POST', '/api/embeddings', 'cached', 'embeddings', 'ollama'],
    ['POST', '/v1/chat/completions', 'cached', 'openai-chat', 'openai'],
    ['POST', '/v1/completions', 'cached', 'openai-completions', 'openai'],
    ['POST', '/v1/embeddings', 'cached', 'openai-embeddings', 'openai'],
    ['GET', '/api/generate', 'passthrough', 'passthrough', 'ollama'],
    ['POST', '/api/generate/', 'passthrough', 'passthrough', 'ollama'],
    ['POST', '/api/show', 'passthrough', 'passthrough', 'ollama'],
    ['GET', '/v1/models', 'passthrough', 'passthrough', 'openai'],
    ['GET', '/', 'passthrough', 'passthrough', 'ollama'],
    ['GET', '/tinyllm/metrics', 'ops', 'tinyllm_metrics', 'ollama'],
    ['POST', '/tinyllm/clear', 'ops', 'tinyllm_clear', 'ollama'],
    ['GET', '/tinyllm/nope', 'ops', 'tinyllm_unknown', 'ollama'],
    ['GET', '/tinyllm', 'ops', 'tinyllm_unknown', 'ollama'],
  ])('%s %s is %s (%s, %s errors)', (method, path, kind, id, api) => {
    const route = classify(method, path);
    expect(route.kind).toBe(kind);
    expect(route.id).toBe(id);
    expect(route.api).toBe(api);
  });
});
