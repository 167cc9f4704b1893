import { createTieredCache } from '@tinyllm/cache-core';
import { runConformanceSuite } from '@tinyllm/cache-core/conformance';
import { MemoryBackend } from '@tinyllm/cache-memory';
import {
  type RedisClusterHandle,
  type RedisServerHandle,
  type SilentServerHandle,
  startRedisCluster,
  startRedisServer,
  startSilentServer,
} from '@tinyllm/redis-harness';
import { describeCacheOptions } from '@tinyllm/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { createRedisCache, RedisBackend } from '../src/index.js';
import { namespacePrefix, redisAvailable, releaseServer, uniquePrefix } from './helpers.js';

describe.skipIf(!redisAvailable)('RedisBackend', () => {
  let server: RedisServerHandle, cluster: RedisClusterHandle, silent: SilentServerHandle;
  beforeAll(async () => ([server, cluster, silent] = await Promise.all([startRedisServer(), startRedisCluster(), startSilentServer()])));
  afterAll(() => Promise.all([releaseServer(server), cluster?.stop(), silent?.close()]));

  runConformanceSuite('redis standalone', {
    createBackend: ({ namespace }) => new RedisBackend({ url: server.url, keyPrefix: namespacePrefix(namespace) }),
    createUnreachableBackend: () => new RedisBackend({ port: silent.port }),
    shared: true,
    lists: true,
    leases: true,
    staleIfError: true,
  });
  runConformanceSuite('redis standalone, batchReads off', {
    createBackend: ({ namespace }) => new RedisBackend({ url: server.url, keyPrefix: namespacePrefix(`unbatched:${namespace}`), batchReads: false }),
    createUnreachableBackend: () => new RedisBackend({ port: silent.port, batchReads: false }),
    shared: true,
    lists: true,
    leases: true,
    staleIfError: true,
  });
  runConformanceSuite('redis standalone, a supplied ioredis client', {
    createBackend: ({ namespace }) =>
      new RedisBackend({
        client: new Redis(server.url, { enableAutoPipelining: true, lazyConnect: true }),
        closeClient: true,
        keyPrefix: namespacePrefix(`supplied:${namespace}`),
      }),
    shared: true,
    lists: true,
    leases: true,
    staleIfError: true,
  });
  runConformanceSuite('redis cluster', {
    createBackend: ({ namespace }) => new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: namespacePrefix(namespace) }),
    shared: true,
    lists: true,
    leases: true,
    staleIfError: true,
  });
  runConformanceSuite('tiered memory + redis', {
    createBackend: ({ namespace }) =>
      createTieredCache([new MemoryBackend(), new RedisBackend({ url: server.url, keyPrefix: namespacePrefix(`tiered:${namespace}`) })]),
    leases: true,
    staleIfError: true,
  });
  describeCacheOptions('createRedisCache', (options) => createRedisCache({ url: server.url, keyPrefix: uniquePrefix('options'), ...options }));
});
