import type { Redis } from 'ioredis';
import type { RedisClient } from './connect.js';

/** Escapes the glob characters of a literal for SCAN MATCH (`*`, `?`, `[`, `]`, `\`). */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** The servers holding keys: every master of a cluster, else the client itself. */
export function dataNodes(client: RedisClient): Redis[] {
  return client.isCluster ? (client as import('ioredis').Cluster).nodes('master') : [client as Redis];
}

/** Batch size hint of SCAN (COUNT). */
export const SCAN_COUNT = 1000;

/**
 * Calls onBatch with each batch of keys starting with prefix, on every data node (SCAN MATCH
 * <escaped prefix>* COUNT 1000; never KEYS). onBatch runs against the node that holds the keys.
 */
export async function scanPrefix(client: RedisClient, prefix: string, onBatch: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
  const pattern = `${escapeGlob(prefix)}*`;
  await Promise.all(
    dataNodes(client).map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        cursor = next;
        if (keys.length > 0) await onBatch(node, keys);
      } while (cursor !== '0');
    }),
  );
}

/**
 * UNLINKs keys on node and returns how many existed. One multi-key UNLINK on a standalone server;
 * on a cluster node, one UNLINK per key in a pipeline (keys of one batch span hash slots).
 */
export async function unlinkKeys(node: Redis, keys: string[], cluster: boolean): Promise<number> {
  if (keys.length === 0) return 0;
  if (!cluster) return node.unlink(...keys);
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.unlink(key);
  const results = (await pipeline.exec()) ?? [];
  let removed = 0;
  for (const [error, count] of results) if (!error && typeof count === 'number') removed += count;
  return removed;
}
