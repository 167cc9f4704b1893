import { randomUUID } from 'node:crypto';
import type { CacheLogger } from '@tinyllm/cache-core';
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

/** One captured log call. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  context: Record<string, unknown>;
  message: string;
}

/** A logger that records every call. */
export function recordingLogger(): CacheLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (context: Record<string, unknown>, message: string): void => {
      records.push({ level, context, message });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Resolves when predicate holds (polling), or rejects after timeoutMs. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
