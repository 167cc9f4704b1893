import { ANY_CODEC_TAG } from '@tinyllm/cache-core/internal';
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

/** Some masters of a cluster could not be scanned to the end; the others were. cause: the first failure. */
export class ScanFailure extends Error {
  /** How many masters failed. */
  readonly failed: number;
  /** How many masters there were. */
  readonly total: number;
  constructor(failures: unknown[], total: number) {
    const first = failures[0] instanceof Error ? failures[0].message : String(failures[0]);
    super(`${failures.length} of ${total} masters failed (${first})`, { cause: failures[0] });
    this.name = 'ScanFailure';
    this.failed = failures.length;
    this.total = total;
  }
}

/**
 * Calls onBatch with each batch of keys starting with prefix, on every data node (SCAN MATCH
 * <escaped prefix>* COUNT 1000; never KEYS). onBatch runs against the node that holds the keys.
 * Every node is scanned to the end even when another fails; then a standalone failure is rethrown
 * as is, a cluster's as a ScanFailure. A cluster that is not connected (no masters known) throws
 * before anything runs: an empty node list must not read as an empty cache.
 */
export async function scanPrefix(client: RedisClient, prefix: string, onBatch: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
  const pattern = `${escapeGlob(prefix)}*`;
  const nodes = dataNodes(client);
  if (client.isCluster && (client.status !== 'ready' || nodes.length === 0)) {
    throw new Error(`the cluster is not connected (status "${client.status}", ${nodes.length} masters known)`);
  }
  const results = await Promise.allSettled(
    nodes.map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        cursor = next;
        if (keys.length > 0) await onBatch(node, keys);
      } while (cursor !== '0');
    }),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length === 0) return;
  if (!client.isCluster) throw failures[0];
  throw new ScanFailure(failures, nodes.length);
}

/** A cache entry found by a scan: its key, its size in bytes and its first 64 bytes (tag, createdAt and expiresAt). */
export interface FoundEntry {
  key: string;
  bytes: number;
  head: string;
}

/**
 * Sorts a batch of keys under the prefix into cache entries (strings that start with a codec tag,
 * of any version) and foreign keys (anything else: another type, another application's value),
 * with one pipelined STRLEN + GETRANGE per key on the node that holds them. A key that vanished
 * meanwhile is neither. Another failure than WRONGTYPE rejects.
 */
export async function inspectKeys(node: Redis, keys: string[]): Promise<{ entries: FoundEntry[]; foreign: number }> {
  const entries: FoundEntry[] = [];
  let foreign = 0;
  if (keys.length === 0) return { entries, foreign };
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.strlen(key).getrange(key, 0, 63);
  const results = (await pipeline.exec()) ?? [];
  for (let i = 0; i < keys.length; i++) {
    const [lengthError, length] = results[2 * i] ?? [];
    const [headError, head] = results[2 * i + 1] ?? [];
    const error = lengthError ?? headError;
    if (error) {
      if (/^WRONGTYPE/.test(error.message)) foreign++;
      else throw error;
      continue;
    }
    if (typeof length !== 'number' || length === 0) continue; // gone meanwhile
    const text = String(head ?? '');
    if (ANY_CODEC_TAG.test(text)) entries.push({ key: keys[i] as string, bytes: length, head: text });
    else foreign++;
  }
  return { entries, foreign };
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

/**
 * The keys starting with prefix, one SCAN batch at a time, master after master (SCAN MATCH
 * <escaped prefix>* COUNT count; never KEYS): a pull-based scanPrefix for listings, which read a
 * batch, hand it on and only then ask for the next. A cluster that is not connected throws first.
 */
export async function* scanBatches(client: RedisClient, prefix: string, count: number = SCAN_COUNT): AsyncGenerator<{ node: Redis; keys: string[] }> {
  const pattern = `${escapeGlob(prefix)}*`;
  const nodes = dataNodes(client);
  if (client.isCluster && (client.status !== 'ready' || nodes.length === 0)) {
    throw new Error(`the cluster is not connected (status "${client.status}", ${nodes.length} masters known)`);
  }
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield { node, keys };
    } while (cursor !== '0');
  }
}

/** Bytes of an entry's start read by a listing: the metadata of any entry whose model and endpoint names are shorter. */
export const HEAD_BYTES = 1024;

/**
 * The start (HEAD_BYTES) of each key's value, with one pipelined GETRANGE per key on the node that
 * holds them: null for a key that is gone or is not a string.
 */
export async function readHeads(node: Redis, keys: string[]): Promise<Array<string | null>> {
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.getrange(key, 0, HEAD_BYTES - 1);
  const results = (await pipeline.exec()) ?? [];
  return keys.map((_, i) => {
    const [error, head] = results[i] ?? [];
    if (error) {
      if (/^WRONGTYPE/.test(error.message)) return null;
      throw error;
    }
    return typeof head === 'string' && head !== '' ? head : null;
  });
}
