/**
 * Memory hit path: our createMemoryCache() against the floor (canonical JSON + sha256 + raw
 * lru-cache get) and the peers (cache-manager 7, keyv 5, LangChain InMemoryCache). Every row gets
 * the same 1,000 requests, stores the same ~2 KB responses, and derives the key from the request
 * on every call. Three diagnostic rows split our hit into "derive the key" and "look it up".
 */
import type { Group, Runner } from './group.js';
import { isError, unresolvable } from './group.js';
import { isQuick } from './measure.js';
import { fmtOps, fmtRatio, fmtSpread, fmtUs, type Section } from './table.js';
import { type BenchRequest, makeRequests, makeResponse, REQUEST_COUNT } from './workload.js';

/** A prepared row: `op(i)` performs one hit for request i % 1000. */
type Prepared = (requests: BenchRequest[], responses: Record<string, unknown>[]) => Promise<(i: number) => unknown>;

// The floor's key: canonical JSON of the request as given, then one-shot sha256 (no normalisation).
async function floorKeyFn(): Promise<(r: BenchRequest) => string> {
  const { canonicalJson } = await import('@tinyllm/cache-core/internal');
  const crypto = await import('node:crypto');
  return (r) => crypto.hash('sha256', canonicalJson(r), 'hex');
}

const PREPARE: Record<string, Prepared> = {
  async floor(requests, responses) {
    const { LRUCache } = await import('lru-cache');
    const key = await floorKeyFn();
    const lru = new LRUCache<string, object>({ max: 1000 });
    requests.forEach((r, i) => {
      lru.set(key(r), responses[i] as object);
    });
    return (i) => lru.get(key(requests[i % REQUEST_COUNT] as BenchRequest));
  },
  async ours(requests, responses) {
    const { createMemoryCache } = await import('@tinyllm/cache-memory');
    const cache = createMemoryCache();
    for (let i = 0; i < requests.length; i++) await cache.set(cache.generateCacheKey(requests[i] as BenchRequest), responses[i]);
    return (i) => cache.get(cache.generateCacheKey(requests[i % REQUEST_COUNT] as BenchRequest));
  },
  async 'cache-manager'(requests, responses) {
    const { createCache } = await import('cache-manager');
    const key = await floorKeyFn();
    const cache = createCache();
    for (let i = 0; i < requests.length; i++) await cache.set(key(requests[i] as BenchRequest), responses[i]);
    return (i) => cache.get(key(requests[i % REQUEST_COUNT] as BenchRequest));
  },
  async keyv(requests, responses) {
    const { Keyv } = await import('keyv');
    const key = await floorKeyFn();
    const cache = new Keyv();
    for (let i = 0; i < requests.length; i++) await cache.set(key(requests[i] as BenchRequest), responses[i]);
    return (i) => cache.get(key(requests[i % REQUEST_COUNT] as BenchRequest));
  },
  async langchain(requests, responses) {
    const { InMemoryCache } = await import('@langchain/core/caches');
    const { canonicalJson } = await import('@tinyllm/cache-core/internal');
    // LangChain keys on (prompt, llmKey): the prompt text and the serialised model settings; it hashes them itself.
    const split = (r: BenchRequest): [string, string] => {
      const { prompt, messages, ...rest } = r;
      return [typeof prompt === 'string' ? prompt : JSON.stringify(messages), canonicalJson(rest)];
    };
    const cache = new InMemoryCache();
    for (let i = 0; i < requests.length; i++) {
      const value = responses[i] as Record<string, unknown>;
      await cache.update(...split(requests[i] as BenchRequest), [{ text: String(value.response ?? ''), generationInfo: value }]);
    }
    return (i) => cache.lookup(...split(requests[i % REQUEST_COUNT] as BenchRequest));
  },
  // Diagnostics: where our hit's time goes.
  async 'diag-key-floor'(requests) {
    const key = await floorKeyFn();
    return (i) => key(requests[i % REQUEST_COUNT] as BenchRequest);
  },
  async 'diag-key-ours'(requests) {
    const { generateCacheKey } = await import('@tinyllm/cache-core');
    return (i) => generateCacheKey(requests[i % REQUEST_COUNT] as BenchRequest);
  },
  async 'diag-ours-get-only'(requests, responses) {
    const { createMemoryCache } = await import('@tinyllm/cache-memory');
    const cache = createMemoryCache();
    const keys = requests.map((r) => cache.generateCacheKey(r));
    for (let i = 0; i < requests.length; i++) await cache.set(keys[i] as string, responses[i]);
    return (i) => cache.get(keys[i % REQUEST_COUNT] as string);
  },
};

const PEERS = ['cache-manager', 'keyv', 'langchain'] as const;
const MAIN_ROWS = ['floor', 'ours', ...PEERS];
const DIAG_ROWS = ['diag-key-floor', 'diag-key-ours', 'diag-ours-get-only'];

async function runRow(id: string): Promise<Runner> {
  const requests = makeRequests();
  const responses = requests.map(makeResponse);
  const op = await (PREPARE[id] as Prepared)(requests, responses);
  // Every row must really hit: a miss would be a very fast, very wrong number.
  for (let i = 0; i < REQUEST_COUNT; i++) if ((await op(i)) == null && !id.startsWith('diag-key')) throw new Error(`${id}: request ${i} missed`);
  return { op, latencySamples: isQuick() ? 4000 : 20000 };
}

const LABELS: Record<string, string> = {
  floor: 'floor: canonicalJson + crypto.hash sha256 + lru-cache get',
  ours: 'ours: createMemoryCache() get(generateCacheKey(req))',
  'cache-manager': 'cache-manager 7 createCache().get(key)',
  keyv: 'keyv 5 default Map store get(key)',
  langchain: 'LangChain InMemoryCache lookup(prompt, llmKey)',
  'diag-key-floor': '(diag) floor key only: canonicalJson + sha256',
  'diag-key-ours': '(diag) our key only: generateCacheKey(req)',
  'diag-ours-get-only': '(diag) our get() with a precomputed key',
};

export const group: Group = {
  name: 'memory',
  async available() {
    return unresolvable('@tinyllm/cache-memory');
  },
  plan: () => [...MAIN_ROWS, ...DIAG_ROWS],
  rows: Object.fromEntries([...MAIN_ROWS, ...DIAG_ROWS].map((id) => [id, () => runRow(id)])),
  summarize(results) {
    const ops = (id: string): number => {
      const r = results[id];
      return r && !isError(r) ? (r.opsPerSec as number) : Number.NaN;
    };
    const floor = ops('floor');
    const rows = [...MAIN_ROWS, ...DIAG_ROWS].map((id) => {
      const r = results[id];
      if (!r || isError(r)) return [LABELS[id] ?? id, 'error', '', '', '', ''];
      const o = r.opsPerSec as number;
      return [
        LABELS[id] ?? id,
        fmtRatio(o / floor),
        fmtOps(o),
        fmtSpread(o, r.min as number, r.max as number),
        fmtUs(r.p50Us as number),
        fmtUs(r.p99Us as number),
      ];
    });
    const fastestPeer = Math.max(...PEERS.map(ops).filter(Number.isFinite));
    const fastestPeerName = PEERS.find((p) => ops(p) === fastestPeer) ?? 'n/a';
    const ours = ops('ours');
    const notes: string[] = [];
    const kf = ops('diag-key-floor');
    const ko = ops('diag-key-ours');
    const go = ops('diag-ours-get-only');
    if ([ours, kf, ko, go, floor].every(Number.isFinite)) {
      const us = (x: number): number => 1e6 / x;
      notes.push(
        `per hit: ours ${us(ours).toFixed(2)} us = our key ${us(ko).toFixed(2)} us (floor key ${us(kf).toFixed(2)} us) + ResponseCache/backend get ${us(go).toFixed(2)} us; ` +
          `floor ${us(floor).toFixed(2)} us, of which the key is ${((us(kf) / us(floor)) * 100).toFixed(0)}%.`,
      );
    }
    const section: Section = {
      title: 'Memory hit (1,000 distinct requests, ~2 KB responses, key derived per call)',
      header: ['row', 'vs floor', 'ops/s (median)', 'rounds spread', 'p50', 'p99'],
      rows,
      targets: [
        {
          name: `ours >= fastest peer (${fastestPeerName})`,
          measured: fmtRatio(ours / fastestPeer),
          goal: '>= 1.00x',
          pass: Number.isFinite(ours / fastestPeer) ? ours >= fastestPeer : null,
        },
        { name: 'ours vs floor', measured: fmtRatio(ours / floor), goal: '>= 0.80x', pass: Number.isFinite(ours / floor) ? ours / floor >= 0.8 : null },
      ],
      notes,
    };
    return [section];
  },
};
