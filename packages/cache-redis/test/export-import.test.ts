import { createEntry, createResponseCache, exportEntries, importEntries } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { type RedisServerHandle, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

async function lines(source: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of source) out.push(line);
  return out;
}

describe.skipIf(!redisAvailable)('export and import across backends', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => releaseServer(server));

  it('an export of a memory cache imported into Redis gives the same hits, with the remaining TTL', async () => {
    const memory = new MemoryBackend();
    const source = createResponseCache({}, () => memory);
    for (let i = 0; i < 50; i++)
      await source.set(`ns:${i}`, { response: `answer ${i}`, done: true }, { ttl: i === 0 ? null : 600, model: 'llama3:latest', endpoint: 'generate' });
    const exported = await lines(exportEntries(memory));
    expect(exported).toHaveLength(51);
    expect(JSON.parse(exported[0] as string)).toMatchObject({ format: 'tinyllm-cache-export', version: 1 });

    const redis = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('import') });
    const report = await importEntries(redis, exported);
    expect(report).toEqual({ imported: 50, expired: 0, cleared: 0, problems: [] });
    const target = createResponseCache({}, () => redis);
    for (let i = 0; i < 50; i++) {
      const entry = await target.getEntry(`ns:${i}`);
      expect(entry?.value).toEqual({ response: `answer ${i}`, done: true });
      expect(entry?.model).toBe('llama3:latest');
      expect(entry?.endpoint).toBe('generate');
    }
    expect(target.getMetrics()).toMatchObject({ hits: 50, misses: 0 });
    const kept = await redis.peek('ns:1');
    const original = memory.peek('ns:1');
    expect(Math.abs((kept?.expiresAt ?? 0) - (original?.expiresAt ?? 0))).toBeLessThan(2000);
    expect((await redis.peek('ns:0'))?.expiresAt).toBeNull();
    await target.close();
    await source.close();
  });

  it('a damaged line is reported by its number and skipped; the rest is imported; replace clears first', async () => {
    const memory = new MemoryBackend();
    memory.set('a', createEntry('one'));
    memory.set('b', createEntry('two'));
    memory.set('c', createEntry('three'));
    const exported = await lines(exportEntries(memory));
    exported[2] = (exported[2] as string).slice(0, 20); // cut short
    exported.push('{"key":"d","createdAt":1}'); // no value
    const redis = new RedisBackend({ url: server.url, keyPrefix: uniquePrefix('damaged') });
    await redis.set('old', createEntry('stale'));
    // As a stream of 7-byte chunks, cut anywhere (inside lines and characters).
    const bytes = Buffer.from(`${exported.join('\n')}\n`);
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    };
    const report = await importEntries(redis, chunks(), { mode: 'replace' });
    expect(report.imported).toBe(2);
    expect(report.cleared).toBe(1);
    expect(report.problems).toEqual([
      { line: 3, message: 'not valid JSON (damaged or cut short)' },
      { line: 5, message: '"value" is missing' },
    ]);
    expect(await redis.get('old')).toBeUndefined();
    await redis.close();
  });
});
