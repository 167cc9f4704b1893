import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_ALLOW_HEADERS, checkHost, type FakeOllamaServer, OriginPolicy, startFakeOllama } from '../src/index.js';
import { raw } from './helpers.js';

// H1, H2, L1: Ollama's CORS middleware (gin-contrib/cors v1.7.2, config from routes.go:1842-1874 and
// envconfig/config.go:86-109) and its Host guard (allowedHostsMiddleware, routes.go:1776-1839).
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama({ origins: ['https://app.example.com', 'https://*.trusted.dev'] });
});
afterAll(() => server.close());

const tags = (headers: Record<string, string>, method = 'GET') => raw(server.url, '/api/tags', { method, headers });

describe('Host guard on a loopback listener', () => {
  it('answers 403 with no body and no Content-Type to a Host that is not local', async () => {
    // routes.go:1836: c.AbortWithStatus(http.StatusForbidden)
    for (const host of ['proxy.example.com', 'proxy.example.com:8080', '8.8.8.8:11434']) {
      const res = await tags({ Host: host });
      expect(res.status).toBe(403);
      expect(res.body).toBe('');
      expect(res.headers['content-type']).toBeUndefined();
    }
  });

  it('lets local IPs, localhost, the machine name and .localhost/.local/.internal names through', async () => {
    // routes.go:1776-1800 (allowedHost) and 1818-1823 (loopback, private, unspecified IPs)
    for (const host of [
      '127.0.0.1:11434',
      'localhost:11434',
      '[::1]:11434',
      '10.1.2.3',
      '192.168.0.9:80',
      'box.local',
      'api.localhost',
      'svc.internal',
      hostname(),
    ]) {
      expect((await tags({ Host: host })).status, host).toBe(200);
    }
  });

  it('answers OPTIONS without an Origin with 204 for a local name and 405 for an IP', async () => {
    // routes.go:1827-1831: an allowed host name aborts OPTIONS with 204; IPs go on to the router (405).
    const named = await tags({ Host: 'localhost:11434' }, 'OPTIONS');
    expect(named.status).toBe(204);
    expect(named.body).toBe('');
    const ip = await tags({ Host: '127.0.0.1:11434' }, 'OPTIONS');
    expect(ip.status).toBe(405);
    expect(ip.headers.allow).toBe('HEAD, GET');
  });

  it('is not applied when the server listens on a non-loopback address, and can be turned off', async () => {
    const open = await startFakeOllama({ host: '0.0.0.0' });
    const off = await startFakeOllama({ guards: false });
    try {
      expect((await raw(`http://127.0.0.1:${open.port}`, '/api/tags', { headers: { Host: 'proxy.example.com' } })).status).toBe(200);
      expect((await raw(off.url, '/api/tags', { headers: { Host: 'proxy.example.com', Origin: 'https://evil.example.com' } })).status).toBe(200);
    } finally {
      await Promise.all([open.close(), off.close()]);
    }
  });

  it('checkHost() exposes the same decision', () => {
    expect(checkHost('localhost:11434', 'GET')).toBe('pass');
    expect(checkHost('localhost:11434', 'OPTIONS')).toBe('preflight');
    expect(checkHost('evil.com', 'GET')).toBe('forbidden');
  });
});

describe('Origin (CORS)', () => {
  it('refuses an origin outside the allow-list with an empty 403, on every route', async () => {
    // cors/config.go:83-86: AbortWithStatus(403) before any route, 404s included.
    for (const path of ['/api/tags', '/api/nope']) {
      const res = await raw(server.url, path, { headers: { Origin: 'https://evil.example.com' } });
      expect(res.status).toBe(403);
      expect(res.body).toBe('');
      expect(res.headers['content-type']).toBeUndefined();
    }
  });

  it('answers an allowed simple request with Access-Control-Allow-Origin and Vary: Origin', async () => {
    // cors/config.go:91-97 and utils.go:12-26 (generateNormalHeaders)
    for (const origin of ['http://localhost:3000', 'https://app.example.com', 'https://ui.trusted.dev', 'vscode-webview://abc', 'tauri://localhost']) {
      const res = await tags({ Origin: origin });
      expect(res.status, origin).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers.vary).toBe('Origin');
    }
  });

  it('answers an allowed preflight with 204 and the exact CORS headers', async () => {
    // cors/config.go:88-90 and utils.go:28-66 (generatePreflightHeaders)
    const res = await raw(server.url, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173');
    expect(res.headers['access-control-allow-methods']).toBe('GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe(CORS_ALLOW_HEADERS);
    expect(CORS_ALLOW_HEADERS).toContain('Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,X-Stainless-Arch');
    expect(res.headers['access-control-max-age']).toBe('43200');
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  it('refuses a preflight from a foreign origin and browser extensions not listed', async () => {
    const res = await raw(server.url, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect((await tags({ Origin: 'chrome-extension://abcdef' })).status).toBe(403);
  });

  it('treats an Origin equal to http(s)://<Host> as same-origin (no CORS headers)', async () => {
    // cors/config.go:77-81
    const host = new URL(server.url).host;
    const res = await tags({ Host: host, Origin: `http://${host}` });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('reads OLLAMA_ORIGINS when no origins option is given, and "*" allows all', async () => {
    const saved = process.env.OLLAMA_ORIGINS;
    process.env.OLLAMA_ORIGINS = ' "https://env.example.org,*" ';
    const fromEnv = await startFakeOllama();
    try {
      const res = await raw(fromEnv.url, '/api/tags', { headers: { Origin: 'https://anything.example.net' } });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_ORIGINS;
      else process.env.OLLAMA_ORIGINS = saved;
      await fromEnv.close();
    }
  });

  it('OriginPolicy validates origins like Ollama at start-up', () => {
    expect(new OriginPolicy(['https://a.dev']).allows('https://a.dev')).toBe(true);
    expect(new OriginPolicy([]).allows('https://a.dev')).toBe(false);
    expect(new OriginPolicy([]).allows('http://localhost:8080')).toBe(true);
    expect(() => new OriginPolicy(['ftp://x'])).toThrow(/bad origin/);
  });
});
