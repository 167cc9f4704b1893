import { randomUUID } from 'node:crypto';
import { type RedisServerHandle, requireRedisServer } from '@tinyllm/redis-harness';
import { RedisBackend } from '../src/index.js';

/** False (with a console message) when redis-server is missing; under CI=true a missing server throws and fails the file. */
export const redisAvailable = requireRedisServer() !== undefined;

/** Every key a test file writes starts with this (one per file: vitest isolates modules per file). */
const filePrefix = `tinyllm:test:${randomUUID()}:`;

/** A key prefix no other test (or a shared REDIS_URL server) uses. */
export const uniquePrefix = (label: string): string => `${filePrefix}${label}:${randomUUID()}:`;

/** The prefix of a conformance namespace in this file: the same namespace gives the same prefix (shared store). */
export const namespacePrefix = (namespace: string): string => `${filePrefix}ns:${namespace}:`;

/** Stops a harness server; on an external one (REDIS_URL) removes this file's keys instead. */
export async function releaseServer(server: RedisServerHandle | undefined): Promise<void> {
  if (!server) return;
  if (server.external) {
    const sweeper = new RedisBackend({ url: server.url, keyPrefix: filePrefix });
    await sweeper.clear();
    await sweeper.close();
  }
  await server.stop();
}
