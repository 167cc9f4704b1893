import type { CacheEntry } from '@tinyllm/cache-core';
import { decodeEntry } from '@tinyllm/cache-core';
import calculateSlot from 'cluster-key-slot';
import { Command, type Redis } from 'ioredis';
import type { RedisClient } from './connect.js';

type Resolve = (entry: CacheEntry | undefined) => void;
type Reject = (error: unknown) => void;

/** The callers of one batch: their keys and how to settle each (parallel arrays: nothing allocated per read but the promise). */
interface Batch {
  keys: string[];
  resolves: Resolve[];
  rejects: Reject[];
}

const newBatch = (): Batch => ({ keys: [], resolves: [], rejects: [] });

/** What the batcher needs from the backend: the client, whether a first connection is pending, and the batch bound. */
export interface ReadBatchSource {
  readonly client: RedisClient;
  /** The first connection, while it is under way (reads wait for it, bounded), else undefined. */
  connecting(): Promise<void> | undefined;
  /** Most keys in one MGET. */
  readonly maxKeys: number;
}

/**
 * Collects the GETs that arrive in one tick and sends them as MGET (one per hash slot on a
 * Cluster, at most maxKeys keys each); a lone key is a plain GET. Why: ioredis spends most of a hit
 * on the per-command work (a command object, a promise, a commandTimeout timer, reply routing), so
 * 256 lookups in flight cost 256 commands where one MGET would do. Each caller still gets its own
 * decoded entry (a value that does not decode fails that caller alone), and a failing MGET fails
 * every read in it: a miss plus an error each, as a failing GET would. Reads only: writes are never
 * batched, so nothing about their ordering or replay changes.
 */
export class ReadBatcher {
  readonly #source: ReadBatchSource;
  #batch: Batch = newBatch();
  readonly #flush = (): void => this.#send();

  constructor(source: ReadBatchSource) {
    this.#source = source;
  }

  /** The decoded entry under redisKey (the full key, prefix included), or undefined when absent. */
  read(redisKey: string): Promise<CacheEntry | undefined> {
    const batch = this.#batch;
    // nextTick runs once the current run of promise callbacks is over: every lookup that the
    // previous batch's replies set off lands in the next batch.
    if (batch.keys.length === 0) process.nextTick(this.#flush);
    batch.keys.push(redisKey);
    return new Promise((resolve, reject) => {
      batch.resolves.push(resolve);
      batch.rejects.push(reject);
    });
  }

  #send(): void {
    const batch = this.#batch;
    this.#batch = newBatch();
    const connecting = this.#source.connecting();
    if (connecting) connecting.then(() => this.#dispatchSafely(batch));
    else this.#dispatchSafely(batch);
  }

  // This runs from process.nextTick: a throw here would be an uncaught exception, so anything the
  // client throws instead of rejecting fails the batch's reads (misses plus errors) instead.
  #dispatchSafely(batch: Batch): void {
    try {
      this.#dispatch(batch);
    } catch (error) {
      for (const reject of batch.rejects) reject(error);
    }
  }

  #dispatch(batch: Batch): void {
    const { keys } = batch;
    if (keys.length === 1) {
      this.#get(batch, 0);
      return;
    }
    const max = this.#source.maxKeys;
    if (!this.#source.client.isCluster) {
      if (keys.length <= max) this.#mget(batch);
      else for (let start = 0; start < keys.length; start += max) this.#mget(slice(batch, start, start + max));
      return;
    }
    // A multi-key command must stay in one hash slot (CROSSSLOT otherwise), even on one node.
    const bySlot = new Map<number, Batch>();
    for (let i = 0; i < keys.length; i++) {
      const slot = calculateSlot(keys[i] as string);
      let part = bySlot.get(slot);
      if (part === undefined) {
        part = newBatch();
        bySlot.set(slot, part);
      }
      if (part.keys.length === max) {
        this.#send1(part);
        part = newBatch();
        bySlot.set(slot, part);
      }
      part.keys.push(keys[i] as string);
      part.resolves.push(batch.resolves[i] as Resolve);
      part.rejects.push(batch.rejects[i] as Reject);
    }
    for (const part of bySlot.values()) this.#send1(part);
  }

  // ioredis's auto-pipelining holds a command until setImmediate, which costs a sequential lookup
  // latency, and a batch already is one command per tick. So a standalone client's batch is written
  // at once, unless commands wait in an auto-pipeline: then it queues behind them (a write waiting
  // there must not be overtaken by a read issued after it). A Cluster keeps ioredis's routing.
  #direct(): boolean {
    const client = this.#source.client;
    return !client.isCluster && (client as Redis).autoPipelineQueueSize === 0;
  }

  // The command written at once (Redis.sendCommand: commandTimeout, the offline-queue rule and the
  // reply routing as for any command), replies as Buffers.
  #sendNow<T>(name: 'get' | 'mget', keys: string[]): Promise<T> {
    const command = new Command(name, keys, { replyEncoding: null });
    (this.#source.client as Redis).sendCommand(command);
    return command.promise as Promise<T>;
  }

  #send1(part: Batch): void {
    if (part.keys.length === 1) this.#get(part, 0);
    else this.#mget(part);
  }

  #get(batch: Batch, i: number): void {
    const resolve = batch.resolves[i] as Resolve;
    const reject = batch.rejects[i] as Reject;
    const key = batch.keys[i] as string;
    const reply = this.#direct() ? this.#sendNow<Buffer | null>('get', [key]) : this.#source.client.getBuffer(key);
    reply.then((raw) => settleOne(raw, resolve, reject), reject);
  }

  #mget(batch: Batch): void {
    const { resolves, rejects } = batch;
    const reply = this.#direct() ? this.#sendNow<Array<Buffer | null>>('mget', batch.keys) : this.#source.client.mgetBuffer(batch.keys);
    reply.then(
      (values) => {
        for (let i = 0; i < resolves.length; i++) settleOne(values[i] ?? null, resolves[i] as Resolve, rejects[i] as Reject);
      },
      (error: unknown) => {
        for (const reject of rejects) reject(error);
      },
    );
  }
}

function slice(batch: Batch, start: number, end: number): Batch {
  return { keys: batch.keys.slice(start, end), resolves: batch.resolves.slice(start, end), rejects: batch.rejects.slice(start, end) };
}

function settleOne(raw: Buffer | null, resolve: Resolve, reject: Reject): void {
  if (raw === null) {
    resolve(undefined);
    return;
  }
  try {
    resolve(decodeEntry(raw));
  } catch (error) {
    reject(error);
  }
}
