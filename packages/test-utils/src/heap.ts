import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** A full garbage collection (enabling --expose-gc at run time the first time), so heap figures are live data only. */
export function collectGarbage(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/** Live heap now (after a full collection), in bytes. */
export function liveHeapBytes(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Iterates source to the end, sampling the live heap every sampleEvery items; returns how many items
 * there were and the largest live-heap growth seen over the heap before the first item, in bytes.
 * Items are dropped as they come, so growth measures what the source itself holds.
 */
export async function heapGrowthOf(source: AsyncIterable<unknown>, sampleEvery = 10_000): Promise<{ count: number; maxGrowthBytes: number }> {
  const base = liveHeapBytes();
  let count = 0;
  let maxGrowthBytes = 0;
  for await (const _item of source) {
    if (++count % sampleEvery === 0) maxGrowthBytes = Math.max(maxGrowthBytes, liveHeapBytes() - base);
  }
  return { count, maxGrowthBytes: Math.max(maxGrowthBytes, liveHeapBytes() - base) };
}
