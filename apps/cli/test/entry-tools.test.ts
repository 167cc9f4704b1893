import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const fx = useCliFixture({ latencyMs: 5 });

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('entry tools', () => {
  it('cache-key gives the key run uses; cache-list, cache-show and cache-delete find the entry by it', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'tools.sqlite'));
    const run = await runCli(['run', '--output', 'json', '--temperature', '0', '--model', 'qwen2.5:0.5b', 'first question'], { env });
    await runCli(['run', '--model', 'llama3.2', 'second question'], { env });
    const runKey = (JSON.parse(run.stdout) as { cache: { key: string } }).cache.key;

    const key = await runCli(['cache-key', '--temperature', '0', '--model', 'qwen2.5:0.5b', 'first question'], { env });
    expect(key.code).toBe(0);
    expect(key.stdout.trim()).toHaveLength(64);
    expect(key.stdout.trim().startsWith(runKey)).toBe(true);
    const other = await runCli(['cache-key', '--temperature', '1', '--model', 'qwen2.5:0.5b', 'first question'], { env });
    expect(other.stdout.trim()).not.toBe(key.stdout.trim());

    const listed = await runCli(['cache-list', '--json', '--sort', 'key'], { env });
    expect(listed.code).toBe(0);
    const infos = jsonLines(listed.stdout);
    expect(infos).toHaveLength(2);
    expect(infos.find((info) => info.key === key.stdout.trim())).toMatchObject({ model: 'qwen2.5:0.5b', endpoint: 'generate', namespace: null });
    expect(jsonLines((await runCli(['cache-list', '--json', '--model', 'llama3.2:latest'], { env })).stdout).map((i) => i.model)).toEqual(['llama3.2:latest']);

    const table = await runCli(['cache-list'], { env });
    expect(table.stdout).toMatch(/^key +model +endpoint +age +expires in +size +hits +last used$/m);
    expect(table.stdout).toContain(key.stdout.trim().slice(0, 16));
    expect(table.stderr).toMatch(/2 entries/);

    const shown = await runCli(['cache-show', runKey], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^model +qwen2\.5:0\.5b$/m);
    expect(shown.stdout).toContain((JSON.parse(run.stdout) as { response: string }).response);
    const shownJson = JSON.parse((await runCli(['cache-show', key.stdout.trim(), '--json'], { env })).stdout) as Record<string, unknown>;
    expect(shownJson).toMatchObject({ key: key.stdout.trim(), endpoint: 'generate' });

    const deleted = await runCli(['cache-delete', runKey, '--json'], { env });
    expect(JSON.parse(deleted.stdout)).toEqual({ removed: 1 });
    expect((await runCli(['cache-show', runKey], { env })).code).toBe(1);
    expect(jsonLines((await runCli(['cache-list', '--json'], { env })).stdout)).toHaveLength(1);
  });

  it('cache-delete by filter needs confirmation without a terminal; with --no-confirm it removes what matches', async () => {
    const env = envFor(fx.fake.url, join(fx.dir, 'delete.sqlite'));
    await runCli(['run', '--model', 'qwen3:0.6b', 'one'], { env });
    await runCli(['run', '--model', 'llama3.2', 'two'], { env });
    const refused = await runCli(['cache-delete', '--model', 'qwen3:0.6b'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--no-confirm');
    expect((await runCli(['cache-delete'], { env })).code).toBe(2);
    const removed = await runCli(['cache-delete', '--model', 'qwen3:0.6b', '--no-confirm', '--json'], { env });
    expect(JSON.parse(removed.stdout)).toEqual({ removed: 1 });
    expect(jsonLines((await runCli(['cache-list', '--json'], { env })).stdout).map((i) => i.model)).toEqual(['llama3.2:latest']);
    expect(JSON.parse((await runCli(['cache-prune', '--json'], { env })).stdout)).toEqual({ removed: 0 });
    const old = await runCli(['cache-list', '--json', '--older-than', '1h'], { env });
    expect(old.stdout).toBe('');
  });

  it('cache-export then cache-import into another store gives the same hits; a damaged line is reported and skipped', async () => {
    const from = envFor(fx.fake.url, join(fx.dir, 'from.sqlite'));
    await runCli(['run', 'exported one'], { env: from });
    await runCli(['run', 'exported two'], { env: from });
    const file = join(fx.dir, 'export.jsonl');
    const exported = await runCli(['cache-export', file], { env: from });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/exported 2 entries/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'tinyllm-cache-export', version: 1 });

    const to = envFor(fx.fake.url, join(fx.dir, 'to.sqlite'));
    const imported = await runCli(['cache-import', file, '--json'], { env: to });
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2, problems: [] });
    const calls = fx.fake.modelCalls();
    const hit = await runCli(['run', '--output', 'json', 'exported two'], { env: to });
    expect((JSON.parse(hit.stdout) as { cache: { status: string } }).cache.status).toBe('hit');
    expect(fx.fake.modelCalls()).toBe(calls);

    const damaged = join(fx.dir, 'damaged.jsonl');
    writeFileSync(damaged, [lines[0], (lines[1] as string).slice(0, 30), lines[2], ''].join('\n'));
    const partial = await runCli(['cache-import', damaged, '--replace'], { env: envFor(fx.fake.url, join(fx.dir, 'partial.sqlite')) });
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/line 2: not valid JSON/);
    expect(partial.stdout).toMatch(/imported 1 entry .*1 bad line skipped/);
    const notExport = join(fx.dir, 'not-export.jsonl');
    writeFileSync(notExport, '{"hello":1}\n');
    const refused = await runCli(['cache-import', notExport], { env: to });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not a TinyLLM cache export');
  });
});
