import { Writable } from 'node:stream';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidKeysFileError, type KeysConfig } from '../src/index.js';
import { send, useStack } from './helpers.js';

const A = 'tk-team-a-user-0123456789';
const B = 'tk-team-b-user-0123456789';
const ADMIN = 'tk-ops-admin-0123456789abc';
const KEYS: KeysConfig = {
  keys: [
    { key: A, tenant: 'team-a' },
    { key: B, tenant: 'team-b' },
    { key: ADMIN, tenant: 'ops', role: 'admin' },
  ],
};
const MODEL = 'qwen2.5:0.5b';

const logLines: string[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
);
const cache = ollamaResponseCache(new MemoryBackend(), {});
const stack = useStack({}, { cache, keys: KEYS, logger });
beforeEach(() => stack.fake.resetCounts());

const auth = (key: string): Record<string, string> => ({ Authorization: `Bearer ${key}` });
const generate = (key: string | undefined, prompt: string, headers: Record<string, string> = {}, path = '/api/generate') =>
  send(stack.proxy.url, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : auth(key)), ...headers },
    body: JSON.stringify({ model: MODEL, prompt, stream: false }),
  });
const ops = (key: string | undefined, path: string, method = 'GET') => send(stack.proxy.url, path, { method, headers: key === undefined ? {} : auth(key) });

describe('API keys', () => {
  it("a request without a key, or with a wrong one, is 401 in the route's error shape, and never reaches Ollama", async () => {
    const none = await generate(undefined, 'no key');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="tinyllm"');
    expect(JSON.parse(none.text)).toEqual({ error: 'missing API key: this proxy needs one, sent as Authorization: Bearer <key>' });
    const wrong = await generate(`${A}x`, 'wrong key');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text).error).toMatch(/^invalid API key/);
    const openai = await send(stack.proxy.url, '/v1/chat/completions', {
      method: 'POST',
      headers: { Authorization: 'Bearer nope' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(openai.status).toBe(401);
    expect(JSON.parse(openai.text)).toEqual({
      error: { message: expect.stringMatching(/^invalid API key/), type: 'invalid_request_error', param: null, code: null },
    });
    // Pass-through routes reach the GPU too: they need a key as well.
    expect((await ops(undefined, '/api/tags')).status).toBe(401);
    expect((await send(stack.proxy.url, '/api/tags', { headers: { Authorization: `Basic ${Buffer.from(`u:${A}`).toString('base64')}` } })).status).toBe(401);
    expect(stack.fake.modelCalls()).toBe(0);
    expect(stack.fake.counts['/api/tags'] ?? 0).toBe(0);
    expect((await ops(A, '/api/tags')).status).toBe(200);
    expect(stack.proxy.counters.unauthorized).toBeGreaterThanOrEqual(5);
  });

  it('health and ready need no key; stats and clear need one; metrics need an admin key (403 for a user)', async () => {
    expect((await ops(undefined, '/tinyllm/health')).status).toBe(200);
    expect((await ops(undefined, '/tinyllm/ready')).status).toBe(200);
    expect((await ops(undefined, '/tinyllm/stats')).status).toBe(401);
    expect((await ops(undefined, '/tinyllm/clear', 'POST')).status).toBe(401);
    expect((await ops(undefined, '/tinyllm/metrics')).status).toBe(401);
    expect((await ops(undefined, '/tinyllm/nope')).status).toBe(401);
    const forbidden = await ops(A, '/tinyllm/metrics');
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.text)).toEqual({ error: 'forbidden: /tinyllm/metrics needs an admin key' });
    expect((await ops(ADMIN, '/tinyllm/metrics')).status).toBe(200);
  });

  it('the Authorization header and the key never reach the log; the tenant does', async () => {
    logLines.length = 0;
    await generate(A, 'logged request');
    await generate('tk-not-a-key-at-all-000000', 'refused request');
    await ops(ADMIN, '/tinyllm/stats');
    logger.flush();
    const text = logLines.join('');
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const secret of [A, ADMIN, 'tk-not-a-key-at-all-000000', 'Bearer', 'logged request']) expect(text).not.toContain(secret);
    expect(text).toContain('"tenant":"team-a"');
    expect(text).toContain('"tenant":"ops"');
  });
});

describe('tenants', () => {
  it("tenant B never gets tenant A's answer, whatever namespace it names", async () => {
    const first = await generate(A, 'a secret of team a');
    expect(first.headers['x-cache']).toBe('MISS');
    expect((await generate(A, 'a secret of team a')).headers['x-cache']).toBe('HIT');
    // Same request, another tenant: its own key, so a miss.
    const b = await generate(B, 'a secret of team a');
    expect(b.headers['x-cache']).toBe('MISS');
    // Naming A's namespace only picks a sub-namespace inside B's: nothing of A's is found there.
    for (const [headers, path] of [
      [{ 'X-TinyLLM-Namespace': 'team-a' }, '/api/generate'],
      [{}, '/ns/team-a/api/generate'],
      [{ 'X-TinyLLM-Namespace': 'team-a' }, '/ns/team-a/api/generate'],
    ] as const) {
      const probe = await generate(B, 'a secret of team a', { ...headers, 'Cache-Control': 'only-if-cached' }, path);
      expect(probe.status).toBe(504);
    }
    const inB = await generate(B, 'a secret of team a', { 'X-TinyLLM-Namespace': 'team-a' });
    expect(inB.status).toBe(200);
    expect(inB.headers['x-cache']).toBe('MISS');
    expect(await cache.getStats({ namespace: 'team-b:team-a' })).toMatchObject({ backend: { entries: 1 } });
    // A name with the tenant separator is refused outright.
    for (const name of ['team-a:x', ':team-a', 'team-a/x', '..']) {
      expect((await generate(B, 'a secret of team a', { 'X-TinyLLM-Namespace': name })).status).toBe(400);
    }
    expect((await generate(B, 'x', {}, '/ns/team-a:x/api/generate')).status).toBe(400);
  });

  it('a tenant\'s sub-namespaces are its own: A in "dev" and A without one are two entries', async () => {
    const root = await generate(A, 'sub-namespaces');
    const dev = await generate(A, 'sub-namespaces', { 'X-TinyLLM-Namespace': 'dev' });
    expect(root.headers['x-cache']).toBe('MISS');
    expect(dev.headers['x-cache']).toBe('MISS');
    expect((await generate(A, 'sub-namespaces', {}, '/ns/dev/api/generate')).headers['x-cache']).toBe('HIT');
  });

  it("stats: a user sees its tenant's entries and requests only; an admin sees the whole cache or any namespace", async () => {
    await generate(B, 'only b has this one');
    const entriesOf = async (namespace: string): Promise<number> => (await cache.getStats({ namespace })).backend?.entries ?? -1;
    const a = JSON.parse((await ops(A, '/tinyllm/stats')).text);
    expect(a).toMatchObject({ backend: 'memory', namespace: 'team-a', entries: await entriesOf('team-a'), tenant: { name: 'team-a' } });
    expect(a.entries).toBeGreaterThanOrEqual(3);
    // No store-wide figure: nothing about other tenants' entries or requests.
    expect(Object.keys(a).sort()).toEqual(['backend', 'bytes', 'entries', 'location', 'namespace', 'newestCreatedAt', 'oldestCreatedAt', 'tenant']);
    expect(a.tenant.hits).toBe(stack.proxy.counters.tenantRequestsOf('team-a', 'hit'));
    const b = JSON.parse((await ops(B, '/tinyllm/stats')).text);
    expect(b).toMatchObject({ namespace: 'team-b', entries: await entriesOf('team-b'), tenant: { name: 'team-b' } });
    // A user naming another tenant only gets a sub-namespace of its own.
    expect(JSON.parse((await ops(B, '/tinyllm/stats?namespace=team-a')).text)).toMatchObject({ namespace: 'team-b:team-a' });
    expect((await ops(B, '/tinyllm/stats?namespace=team-a:x')).status).toBe(400);
    const dev = JSON.parse((await send(stack.proxy.url, '/tinyllm/stats', { headers: { ...auth(A), 'X-TinyLLM-Namespace': 'dev' } })).text);
    expect(dev).toMatchObject({ namespace: 'team-a:dev', entries: 1 });
    const all = JSON.parse((await ops(ADMIN, '/tinyllm/stats')).text);
    expect(all.entries).toBe((await cache.getStats()).backend?.entries);
    expect(all).toHaveProperty('hits');
    expect(JSON.parse((await ops(ADMIN, '/tinyllm/stats?namespace=team-a')).text)).toMatchObject({ namespace: 'team-a', entries: a.entries });
  });

  it('clear: a user clears its own tenant only; an admin clears one namespace or everything', async () => {
    await generate(A, "kept through b's clear");
    await generate(B, 'cleared by b');
    const bEntries = (await cache.getStats({ namespace: 'team-b' })).backend?.entries ?? 0;
    const aEntries = (await cache.getStats({ namespace: 'team-a' })).backend?.entries ?? 0;
    const bSub = (await cache.getStats({ namespace: 'team-b:team-a' })).backend?.entries ?? 0;
    expect(JSON.parse((await ops(B, '/tinyllm/clear?namespace=team-a', 'POST')).text)).toEqual({ removed: bSub, namespace: 'team-b:team-a' });
    expect((await cache.getStats({ namespace: 'team-a' })).backend?.entries).toBe(aEntries);
    expect(JSON.parse((await ops(B, '/tinyllm/clear', 'POST')).text)).toEqual({ removed: bEntries - bSub, namespace: 'team-b' });
    expect((await generate(A, "kept through b's clear")).headers['x-cache']).toBe('HIT');
    expect((await generate(B, 'cleared by b')).headers['x-cache']).toBe('MISS');
    expect(JSON.parse((await ops(ADMIN, '/tinyllm/clear?namespace=team-a', 'POST')).text)).toEqual({ removed: aEntries, namespace: 'team-a' });
    expect((await generate(A, "kept through b's clear")).headers['x-cache']).toBe('MISS');
    const total = (await cache.getStats()).backend?.entries ?? 0;
    expect(total).toBeGreaterThan(0);
    expect(JSON.parse((await ops(ADMIN, '/tinyllm/clear', 'POST')).text)).toEqual({ removed: total });
  });

  it('reloading the keys: new keys work at once, old ones stop; a bad set is refused and the old keys stay', async () => {
    const C = 'tk-team-c-user-0123456789';
    try {
      expect(await stack.proxy.reloadKeys({ keys: [...KEYS.keys.filter((k) => k.key !== B), { key: C, tenant: 'team-c' }] })).toEqual({ keys: 3, tenants: 3 });
      expect((await ops(C, '/api/tags')).status).toBe(200);
      expect((await ops(B, '/api/tags')).status).toBe(401);
      const refused = await stack.proxy.reloadKeys({ keys: [{ key: 'short', tenant: 'x' }] }).catch((e: unknown) => e);
      expect(InvalidKeysFileError.isInstance(refused)).toBe(true);
      expect((await ops(C, '/api/tags')).status).toBe(200);
    } finally {
      await stack.proxy.reloadKeys(KEYS);
    }
    expect((await ops(B, '/api/tags')).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('a tenant over its limit gets 429 with Retry-After; other tenants are not slowed', async () => {
    await stack.proxy.reloadKeys({ ...KEYS, tenants: { 'team-a': { rateLimit: { requestsPerMinute: 6, burst: 2 } } } });
    try {
      expect((await ops(A, '/api/tags')).status).toBe(200);
      expect((await ops(A, '/api/version')).status).toBe(200);
      const limited = await generate(A, 'over the limit');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(10);
      expect(JSON.parse(limited.text).error).toMatch(/^rate limit exceeded: tenant "team-a" may send 6 requests a minute/);
      expect((await ops(B, '/api/tags')).status).toBe(200);
      expect(stack.proxy.counters.tenantRateLimited.get('team-a')).toBeGreaterThanOrEqual(1);
      const metrics = (await ops(ADMIN, '/tinyllm/metrics')).text;
      expect(metrics).toMatch(/tinyllm_tenant_rate_limited_total\{tenant="team-a"\} [1-9]/);
      expect(metrics).toMatch(/tinyllm_tenant_requests_total\{tenant="team-b",cache="none"\} [1-9]/);
    } finally {
      await stack.proxy.reloadKeys(KEYS);
    }
  });
});
