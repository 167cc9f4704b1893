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
    staleIfError: true,
  });
  runConformanceSuite('redis cluster', {
    createBackend: ({ namespace }) => new RedisBackend({ clusterNodes: cluster.nodes, keyPrefix: namespacePrefix(namespace) }),
    shared: true,
    staleIfError: true,
  });
  runConformanceSuite('tiered memory + redis', {
    createBackend: ({ namespace }) =>
      createTieredCache([new MemoryBackend(), new RedisBackend({ url: server.url, keyPrefix: namespacePrefix(`tiered:${namespace}`) })]),
    staleIfError: true,
  });
  describeCacheOptions('createRedisCache', (options) => createRedisCache({ url: server.url, keyPrefix: uniquePrefix('options'), ...options }));
});
