import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const loaded = (name: string): string[] => Object.keys(require.cache).filter((path) => path.includes(`/node_modules/${name}/`) || path.includes(`/${name}@`));

describe('optional stores load lazily', () => {
  it('importing the package loads neither ioredis nor better-sqlite3', async () => {
    expect(loaded('ioredis')).toEqual([]);
    expect(loaded('better-sqlite3')).toEqual([]);
    const mod = await import('../src/index.js');
    const client = mod.createCachedClient({ host: 'http://127.0.0.1:1' });
    await client.close();
    expect(loaded('ioredis')).toEqual([]);
    expect(loaded('better-sqlite3')).toEqual([]);
    // The check itself works: loading the Redis store does load ioredis.
    const redis = mod.createCachedClient({ host: 'http://127.0.0.1:1', backend: 'redis', redisPort: 1 });
    await redis.ready();
    await redis.close();
    expect(loaded('ioredis').length).toBeGreaterThan(0);
    expect(loaded('better-sqlite3')).toEqual([]);
  });
});
