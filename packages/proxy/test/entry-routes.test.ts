import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { describe, expect, it } from 'vitest';
import type { KeysConfig } from '../src/index.js';
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
const auth = (key: string): Record<string, string> => ({ Authorization: `Bearer ${key}` });
const lines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('entry routes, scoped by tenant', () => {
  const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}), keys: KEYS, dashboardPrompts: false });
  const generate = (key: string, prompt: string) =>
    send(stack.proxy.url, '/api/generate', {
      method: 'POST',
      headers: { ...auth(key), 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt, stream: false }),
    });

  it('lists, shows, exports, deletes and imports entries; a user sees only its tenant', async () => {
    const first = await generate(A, 'alpha');
    await generate(A, 'beta');
    await generate(B, 'gamma');
    const keyA = String(first.headers['x-tinyllm-key']);

    const all = lines((await send(stack.proxy.url, '/tinyllm/entries?sort=key', { headers: auth(ADMIN) })).text);
    expect(all.map((info) => info.namespace).sort()).toEqual(['team-a', 'team-a', 'team-b']);
    expect(all[0]).toMatchObject({ endpoint: 'generate', model: MODEL });
    const mine = await send(stack.proxy.url, '/tinyllm/entries', { headers: auth(A) });
    expect(mine.headers['content-type']).toContain('application/x-ndjson');
    const mineInfos = lines(mine.text);
    expect(mineInfos).toHaveLength(2);
    expect(mineInfos.every((info) => info.namespace === 'team-a')).toBe(true);
    expect(lines((await send(stack.proxy.url, '/tinyllm/entries?limit=1', { headers: auth(A) })).text)).toHaveLength(1);
    expect((await send(stack.proxy.url, '/tinyllm/entries?limit=zero', { headers: auth(A) })).status).toBe(400);

    const fullKey = String(mineInfos.find((info) => String(info.key).includes(keyA))?.key);
    const shown = await send(stack.proxy.url, `/tinyllm/entries/${encodeURIComponent(fullKey)}`, { headers: auth(A) });
    expect(shown.status).toBe(200);
    expect(JSON.parse(shown.text)).toMatchObject({ key: fullKey, model: MODEL, endpoint: 'generate', value: expect.anything() });
    // Another tenant's key is absent for B.
    expect((await send(stack.proxy.url, `/tinyllm/entries/${encodeURIComponent(fullKey)}`, { headers: auth(B) })).status).toBe(404);

    const exported = await send(stack.proxy.url, '/tinyllm/export', { headers: auth(A) });
    const exportLines = exported.text.trim().split('\n');
    expect(JSON.parse(exportLines[0] as string)).toMatchObject({ format: 'tinyllm-cache-export', version: 1 });
    expect(exportLines).toHaveLength(3);

    const removed = await send(stack.proxy.url, `/tinyllm/entries/${encodeURIComponent(fullKey)}`, { method: 'DELETE', headers: auth(A) });
    expect(JSON.parse(removed.text)).toEqual({ removed: 1 });
    expect((await generate(A, 'alpha')).headers['x-cache']).toBe('MISS');

    // B may not import A's keys; A re-imports its export (replace: cleared first) and hits again.
    const foreign = JSON.parse((await send(stack.proxy.url, '/tinyllm/import', { method: 'POST', headers: auth(B), body: exported.text })).text);
    expect(foreign.imported).toBe(0);
    expect(foreign.problems.map((p: { line: number }) => p.line)).toEqual([2, 3]);
    const damaged = `${exported.text.trim()}\n{"key":"team-a:x","value":\n`;
    const report = await send(stack.proxy.url, '/tinyllm/import?mode=replace', { method: 'POST', headers: auth(A), body: damaged });
    expect(JSON.parse(report.text)).toMatchObject({ imported: 2, cleared: 2, problems: [{ line: 4, message: 'not valid JSON (damaged or cut short)' }] });
    expect((await generate(A, 'beta')).headers['x-cache']).toBe('HIT');
    expect((await send(stack.proxy.url, '/tinyllm/import', { method: 'POST', headers: auth(A), body: '{"not":"an export"}\n' })).status).toBe(400);

    // Delete by filter: a user's is its tenant only; prune is admin-only.
    const byModel = await send(stack.proxy.url, `/tinyllm/entries?model=${MODEL}`, { method: 'DELETE', headers: auth(B) });
    expect(JSON.parse(byModel.text)).toEqual({ removed: 1, namespace: 'team-b' });
    expect(lines((await send(stack.proxy.url, '/tinyllm/entries', { headers: auth(ADMIN) })).text).every((info) => info.namespace === 'team-a')).toBe(true);
    expect((await send(stack.proxy.url, '/tinyllm/prune', { method: 'POST', headers: auth(A) })).status).toBe(403);
    expect(JSON.parse((await send(stack.proxy.url, '/tinyllm/prune', { method: 'POST', headers: auth(ADMIN) })).text)).toEqual({ removed: 0 });
    expect((await send(stack.proxy.url, '/tinyllm/entries', { method: 'DELETE', headers: auth(ADMIN) })).status).toBe(400);
    expect((await send(stack.proxy.url, '/tinyllm/entries')).status).toBe(401);
  });

  it('activity: the recent cached requests without prompts, by cache status; admin-only; the dashboard page is public', async () => {
    await generate(A, 'activity one');
    await generate(A, 'activity one');
    expect((await send(stack.proxy.url, '/tinyllm/activity', { headers: auth(A) })).status).toBe(403);
    const activity = JSON.parse((await send(stack.proxy.url, '/tinyllm/activity', { headers: auth(ADMIN) })).text);
    expect(activity.prompts).toBe(false);
    expect(activity.recent[0]).toMatchObject({ route: 'generate', cache: 'HIT', status: 200, model: MODEL, tenant: 'team-a', prompt: null });
    expect(activity.recent[1]).toMatchObject({ cache: 'MISS' });
    const totals = activity.timeline.reduce((sum: number, bucket: Record<string, number>) => sum + (bucket.HIT ?? 0) + (bucket.MISS ?? 0), 0);
    expect(totals).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(activity)).not.toContain('activity one');
    const page = await send(stack.proxy.url, '/tinyllm/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.text).toContain('<title>TinyLLM cache</title>');
  });
});

describe('activity with dashboardPrompts', () => {
  const stack = useStack({}, { cache: ollamaResponseCache(new MemoryBackend(), {}), dashboardPrompts: true });
  it('keeps the first 200 characters of each prompt', async () => {
    await send(stack.proxy.url, '/api/chat', {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `shown ${'x'.repeat(300)}` }], stream: false }),
    });
    const activity = JSON.parse((await send(stack.proxy.url, '/tinyllm/activity')).text);
    expect(activity.prompts).toBe(true);
    expect(activity.recent[0].prompt).toBe(`shown ${'x'.repeat(194)}`);
  });
});
