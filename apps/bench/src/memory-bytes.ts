/**
 * Memory bytes per entry: 10,000 entries of ~2 KB, each configuration in its own process
 * (--expose-gc), heap delta after full collections divided by the entry count. The variants
 * isolate where our backend's bytes go (object graph vs string, freezing, the entry record), and
 * the budget row checks that `maxBytes` holds, both as accounted by the backend and as real heap.
 */
import type { Group, RowResult } from './group.js';
import { isError, unresolvable } from './group.js';
import { fmtBytes, fmtRatio, type Section } from './table.js';
import { type BenchRequest, makeRequests, makeResponse } from './workload.js';

const ENTRIES = 10_000;
/** The byte budget of the budget row: about 40% of what 10,000 entries need, so eviction runs for a while. */
const BUDGET = 8 * 1024 * 1024;

function heapUsed(): number {
  // Several passes: weak callbacks and finalisers can free more on the second and third.
  for (let i = 0; i < 4; i++) globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

/** A fresh sequential (flat) string with the same text: never a rope, never a slice of a larger one. */
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const meta = () => ({ createdAt: Date.now(), expiresAt: Date.now() + 3_600_000, accessCount: 0, lastAccess: Date.now(), sizeBytes: 2000 });

/** Each variant stores entry i somewhere and returns what keeps the store alive. */
type Variant = (
  requests: BenchRequest[],
) => Promise<{ keep: unknown; insert: (i: number) => Promise<void> | void; after?: () => Promise<RowResult> | RowResult }>;

async function floorKey(): Promise<(r: BenchRequest) => string> {
  const { canonicalJson } = await import('@tinyllm/cache-core/internal');
  const crypto = await import('node:crypto');
  return (r) => crypto.hash('sha256', canonicalJson(r), 'hex');
}

const VARIANTS: Record<string, Variant> = {
  // The payload itself as flat strings: the reference "bytes of payload" in the heap.
  async 'map-flat-string'(requests) {
    const key = await floorKey();
    const map = new Map<string, string>();
    return { keep: map, insert: (i) => void map.set(key(requests[i] as BenchRequest), flat(JSON.stringify(makeResponse(requests[i] as BenchRequest, i)))) };
  },
  // JSON.stringify's result kept as is (V8 may keep it as a rope, which costs ~240 B more per entry).
  async 'map-stringify-result'(requests) {
    const key = await floorKey();
    const map = new Map<string, string>();
    return { keep: map, insert: (i) => void map.set(key(requests[i] as BenchRequest), JSON.stringify(makeResponse(requests[i] as BenchRequest, i))) };
  },
  // A parsed object graph (what JSON.parse gives), not frozen.
  async 'map-parsed-object'(requests) {
    const key = await floorKey();
    const map = new Map<string, unknown>();
    return {
      keep: map,
      insert: (i) => void map.set(key(requests[i] as BenchRequest), JSON.parse(JSON.stringify(makeResponse(requests[i] as BenchRequest, i)))),
    };
  },
  // Same, deep-frozen: isolates what Object.freeze costs.
  async 'map-frozen-object'(requests) {
    const key = await floorKey();
    const map = new Map<string, unknown>();
    return {
      keep: map,
      insert: (i) => void map.set(key(requests[i] as BenchRequest), deepFreeze(JSON.parse(JSON.stringify(makeResponse(requests[i] as BenchRequest, i))))),
    };
  },
  // A string layout: lru-cache holding { metadata, flat JSON string }.
  async 'lru-entry-flat-string'(requests) {
    const key = await floorKey();
    const { LRUCache } = await import('lru-cache');
    const lru = new LRUCache<string, object>({ max: ENTRIES * 2 });
    return {
      keep: lru,
      insert: (i) => void lru.set(key(requests[i] as BenchRequest), { ...meta(), value: flat(JSON.stringify(makeResponse(requests[i] as BenchRequest, i))) }),
    };
  },
  // Ours, as shipped.
  async ours(requests) {
    const { createMemoryCache } = await import('@tinyllm/cache-memory');
    const cache = createMemoryCache({ maxSize: ENTRIES * 2 });
    return {
      keep: cache,
      insert: async (i) => void (await cache.set(cache.generateCacheKey(requests[i] as BenchRequest), makeResponse(requests[i] as BenchRequest, i))),
      after: async () => {
        const stats = await cache.getStats();
        return { accountedBytes: stats.backend?.bytes ?? Number.NaN, entries: stats.backend?.entries ?? 0 };
      },
    };
  },
  // Ours with a byte budget smaller than the data: does it hold (accounted and real)?
  async 'ours-budget'(requests) {
    const { createMemoryCache } = await import('@tinyllm/cache-memory');
    const cache = createMemoryCache({ maxSize: ENTRIES * 100, maxBytes: BUDGET });
    return {
      keep: cache,
      insert: async (i) => void (await cache.set(cache.generateCacheKey(requests[i] as BenchRequest), makeResponse(requests[i] as BenchRequest, i))),
      after: async () => {
        const stats = await cache.getStats();
        return { accountedBytes: stats.backend?.bytes ?? Number.NaN, entries: stats.backend?.entries ?? 0, budget: BUDGET };
      },
    };
  },
};

async function runRow(id: string): Promise<RowResult> {
  const requests = makeRequests(ENTRIES);
  // Pinned: V8 may free a local it sees no later use of, which would shrink the "after" heap by ~19 MB.
  (globalThis as { pinned?: unknown }).pinned = requests;
  let payload = 0;
  for (let i = 0; i < ENTRIES; i++) payload += Buffer.byteLength(JSON.stringify(makeResponse(requests[i] as BenchRequest, i)));
  const variant = await (VARIANTS[id] as Variant)(requests);
  (globalThis as { pinnedStore?: unknown }).pinnedStore = variant.keep;
  // Insert and delete one entry first so lazily allocated structures (lru-cache's typed arrays) are in the baseline.
  await variant.insert(0);
  const before = heapUsed();
  for (let i = 1; i < ENTRIES; i++) await variant.insert(i);
  const after = heapUsed();
  const extra = (await variant.after?.()) ?? {};
  const entries = typeof extra.entries === 'number' ? extra.entries - 1 : ENTRIES - 1;
  // Same for the store: it must be reachable until after the measurement.
  (globalThis as { pinnedStore?: unknown }).pinnedStore = variant.keep;
  return { heapDelta: after - before, entriesMeasured: entries, heapPerEntry: (after - before) / (ENTRIES - 1), payloadPerEntry: payload / ENTRIES, ...extra };
}

const ROWS = ['map-flat-string', 'map-stringify-result', 'map-parsed-object', 'map-frozen-object', 'lru-entry-flat-string', 'ours', 'ours-budget'];
const LABELS: Record<string, string> = {
  'map-flat-string': 'Map<key, flat JSON string> (payload reference)',
  'map-stringify-result': 'Map<key, JSON.stringify result as returned>',
  'map-parsed-object': 'Map<key, JSON.parse object>',
  'map-frozen-object': 'Map<key, deep-frozen JSON.parse object>',
  'lru-entry-flat-string': 'lru-cache<key, {metadata, flat JSON string}> (string layout)',
  ours: 'ours: createMemoryCache() as shipped',
};

export const group: Group = {
  name: 'memory-bytes',
  async available() {
    return unresolvable('@tinyllm/cache-memory');
  },
  plan: () => ROWS,
  rows: Object.fromEntries(ROWS.map((id) => [id, () => runRow(id)])),
  summarize(results) {
    const ok = (id: string): RowResult | undefined => {
      const r = results[id];
      return r && !isError(r) ? r : undefined;
    };
    const payload = (ok('ours')?.payloadPerEntry as number) ?? Number.NaN;
    const limit = 1.3 * payload + 512;
    const rows = ROWS.filter((id) => id !== 'ours-budget').map((id) => {
      const r = ok(id);
      if (!r) return [LABELS[id] ?? id, 'error', '', ''];
      const per = r.heapPerEntry as number;
      return [LABELS[id] ?? id, fmtBytes(per), fmtRatio(per / (r.payloadPerEntry as number)), fmtBytes(per - (r.payloadPerEntry as number))];
    });
    const ours = ok('ours');
    const oursPer = (ours?.heapPerEntry as number) ?? Number.NaN;
    const budget = ok('ours-budget');
    const targets: Section['targets'] = [
      {
        name: 'ours heap per entry',
        measured: fmtBytes(oursPer),
        goal: `<= 1.3 x ${fmtBytes(payload)} + 512 B = ${fmtBytes(limit)}`,
        pass: Number.isFinite(oursPer) ? oursPer <= limit : null,
      },
    ];
    const notes = [
      `payload = UTF-8 JSON size of the stored response, ${fmtBytes(payload)} on average; heap = heapUsed delta after gc for ${ENTRIES.toLocaleString('en')} entries (keys included), each row in its own process.`,
    ];
    if (ours)
      notes.push(
        `ours accounts ${fmtBytes((ours.accountedBytes as number) / (ours.entries as number))} per entry (sizeBytes + key + ENTRY_OVERHEAD_BYTES) but really uses ${fmtBytes(oursPer)}.`,
      );
    if (budget) {
      const accounted = budget.accountedBytes as number;
      const B = budget.budget as number;
      const heap = budget.heapDelta as number;
      targets.push(
        {
          name: 'maxBytes budget, accounted size vs budget',
          measured: `${fmtBytes(accounted)} / ${fmtBytes(B)} (${((accounted / B) * 100).toFixed(2)}%)`,
          goal: '<= 100% and >= 99%',
          pass: accounted <= B && accounted >= 0.99 * B,
        },
        {
          name: 'maxBytes budget, measured heap vs budget',
          measured: `${fmtBytes(heap)} / ${fmtBytes(B)} (${((heap / B) * 100).toFixed(1)}%)`,
          goal: 'within 1%',
          pass: Math.abs(heap / B - 1) <= 0.01,
        },
      );
      notes.push(
        `budget row: ${budget.entries} entries kept under maxBytes ${fmtBytes(B)}; "accounted" is what the backend counts (what it enforces), "measured heap" is heapUsed delta after gc.`,
      );
    }
    return [
      {
        title: `Memory bytes per entry (${ENTRIES.toLocaleString('en')} entries of ~2 KB)`,
        header: ['layout', 'heap per entry', 'vs payload', 'overhead per entry'],
        rows,
        targets,
        notes,
      },
    ];
  },
};
