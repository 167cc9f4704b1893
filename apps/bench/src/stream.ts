/**
 * Streamed answers: how big a streamed entry is stored (the compact track: the text once, each
 * chunk's shape and text lengths) against the same answer stored from a non-streaming call and
 * against the old layout (the answer plus every recorded chunk object); how fast a stored stream
 * replays against replaying recorded chunk objects; and what the memory store's default byte budget
 * costs in real heap when it is filled with such answers.
 */
import type { Group, RowResult, Runner } from './group.js';
import { isError, unresolvable } from './group.js';
import { isQuick } from './measure.js';
import { fmtBytes, fmtOps, fmtRatio, fmtSpread } from './table.js';

/** The example: a 670 KB answer in 100,000 chunks. */
const BIG_CHUNKS = 100_000;
const BIG_TEXT_BYTES = 670_000;
/** The replay rows replay a 2,000-chunk answer per operation (a round then holds many operations). */
const REPLAY_CHUNKS = 2_000;
const MODEL = 'llama3.2';

type Chunk = Record<string, unknown>;

// Ollama's /api/generate stream: small text pieces, then a final chunk with the metrics and context.
function generateChunks(count: number, textBytes: number): Chunk[] {
  const words = 'the cache answers from memory when the same question comes again and the model rests'.split(' ');
  const per = textBytes / count;
  const chunks: Chunk[] = [];
  let made = 0;
  for (let i = 0; i < count - 1; i++) {
    const target = Math.round(per * (i + 1)) - made;
    let piece = ` ${words[i % words.length]}`;
    while (piece.length < target) piece += piece;
    piece = piece.slice(0, Math.max(1, target));
    made += piece.length;
    chunks.push({ model: MODEL, created_at: `2025-11-26T06:00:00.${String(i % 1e6).padStart(6, '0')}Z`, response: piece, done: false });
  }
  chunks.push({
    model: MODEL,
    created_at: '2025-11-26T06:01:40.000000Z',
    response: '',
    done: true,
    done_reason: 'stop',
    context: Array.from({ length: 64 }, (_, i) => (i * 7919) % 150_000),
    total_duration: 98_765_432_100,
    load_duration: 12_345_678,
    prompt_eval_count: 48,
    prompt_eval_duration: 123_456_789,
    eval_count: count - 1,
    eval_duration: 98_000_000_000,
  });
  // Through JSON, as chunks arrive from Ollama.
  return JSON.parse(JSON.stringify(chunks)) as Chunk[];
}

const utf8 = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

// Sizes as stored: the cache-core codec's text of an entry holding the record.
async function sizes(): Promise<RowResult> {
  const { createEntry, encodeEntry } = await import('@tinyllm/cache-core');
  const { generateProfile, storeStream, storeWhole } = await import('@tinyllm/ollama-cached/engine');
  const chunks = generateChunks(BIG_CHUNKS, BIG_TEXT_BYTES);
  const streamed = storeStream(generateProfile, chunks);
  const whole = storeWhole(generateProfile, streamed.response);
  // The layout before the compact track: the assembled answer plus every recorded chunk object.
  const recorded = { ...whole, chunks };
  const stored = (record: unknown): number => Buffer.byteLength(encodeEntry(createEntry(record, { ttl: 3600 })));
  return {
    chunks: BIG_CHUNKS,
    textBytes: Buffer.byteLength(String(streamed.response.response)),
    wholeBytes: stored(whole),
    streamedBytes: stored(streamed),
    recordedBytes: stored(recorded),
    trackBytes: utf8(streamed.stream),
  };
}

// Replays per second of a REPLAY_CHUNKS-chunk answer: the compact track rebuilt into chunks in
// Ollama's shape (what a streaming hit does), or the old way, a copy of every recorded chunk.
async function replay(kind: 'track' | 'recorded'): Promise<Runner> {
  const { copyJson, generateProfile, newStamp, replayChunks, storeStream } = await import('@tinyllm/ollama-cached/engine');
  const chunks = generateChunks(REPLAY_CHUNKS, Math.round((BIG_TEXT_BYTES / BIG_CHUNKS) * REPLAY_CHUNKS));
  // As the memory store keeps values: a JSON copy, deep-frozen.
  const freeze = <T>(value: T): T => {
    if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value)) freeze(child);
      Object.freeze(value);
    }
    return value;
  };
  const stored = freeze(JSON.parse(JSON.stringify(storeStream(generateProfile, chunks))));
  const recorded = freeze(JSON.parse(JSON.stringify(chunks))) as Chunk[];
  const expected = chunks.map((c) => c.response).join('');
  const check = (out: Chunk[]): void => {
    if (out.length !== chunks.length || out.map((c) => c.response).join('') !== expected) throw new Error(`${kind}: replay differs from the recording`);
  };
  const op =
    kind === 'track'
      ? () => replayChunks(generateProfile, stored, MODEL)
      : () => {
          const stamp = newStamp(MODEL);
          return recorded.map((chunk) => generateProfile.stamp(copyJson(chunk), stamp));
        };
  check(op() as Chunk[]);
  return { op, latencySamples: 0 };
}

// The memory store with its default budget, filled past it with big streamed answers: real heap
// against the budget and against what the store accounts.
async function heapAtDefaultBudget(): Promise<RowResult> {
  const { createMemoryCache, DEFAULT_MAX_BYTES } = await import('@tinyllm/cache-memory');
  const { generateProfile, storeStream } = await import('@tinyllm/ollama-cached/engine');
  const heap = (): number => {
    for (let i = 0; i < 4; i++) globalThis.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const record = storeStream(generateProfile, generateChunks(BIG_CHUNKS, BIG_TEXT_BYTES));
  const cache = createMemoryCache();
  (globalThis as { pinnedStore?: unknown }).pinnedStore = cache;
  await cache.set('warm', record);
  await cache.delete('warm');
  const before = heap();
  const perEntry = utf8(record);
  const inserts = Math.ceil((DEFAULT_MAX_BYTES / perEntry) * (isQuick() ? 1.05 : 1.25));
  for (let i = 0; i < inserts; i++) await cache.set(`streamed-${i}`, record);
  const after = heap();
  const stats = await cache.getStats();
  (globalThis as { pinnedStore?: unknown }).pinnedStore = cache;
  return {
    budget: DEFAULT_MAX_BYTES,
    inserts,
    entries: stats.backend?.entries ?? 0,
    accountedBytes: stats.backend?.bytes ?? Number.NaN,
    heapDelta: after - before,
    recordBytes: perEntry,
  };
}

const ROWS = ['sizes', 'replay-track', 'replay-recorded', 'heap-default-budget'];

export const group: Group = {
  name: 'stream',
  async available() {
    return unresolvable('@tinyllm/ollama-cached/engine', '@tinyllm/cache-memory');
  },
  plan: () => ROWS,
  rows: {
    sizes,
    'replay-track': () => replay('track'),
    'replay-recorded': () => replay('recorded'),
    'heap-default-budget': heapAtDefaultBudget,
  },
  summarize(results) {
    const get = (id: string): RowResult | undefined => {
      const r = results[id];
      return r && !isError(r) ? r : undefined;
    };
    const err = (id: string): string => String((results[id] as { error?: string } | undefined)?.error ?? 'not run').split('\n')[0] ?? '';
    const s = get('sizes');
    const n = (r: RowResult | undefined, f: string): number => (r?.[f] as number | undefined) ?? Number.NaN;
    const ratio = n(s, 'streamedBytes') / n(s, 'wholeBytes');
    const perChunk = (n(s, 'streamedBytes') - n(s, 'wholeBytes')) / n(s, 'chunks');
    const track = get('replay-track');
    const old = get('replay-recorded');
    const replayRatio = n(track, 'opsPerSec') / n(old, 'opsPerSec');
    const h = get('heap-default-budget');
    const rows: string[][] = s
      ? [
          [`answer from a non-streaming call (${fmtBytes(n(s, 'textBytes'))} of text)`, fmtBytes(n(s, 'wholeBytes')), '1.00x', ''],
          [
            `the same answer streamed in ${n(s, 'chunks').toLocaleString('en')} chunks, compact track`,
            fmtBytes(n(s, 'streamedBytes')),
            fmtRatio(ratio),
            `${perChunk.toFixed(2)} B`,
          ],
          [
            'the same, stored the old way (answer + every chunk object)',
            fmtBytes(n(s, 'recordedBytes')),
            fmtRatio(n(s, 'recordedBytes') / n(s, 'wholeBytes')),
            '',
          ],
        ]
      : [['sizes', `error: ${err('sizes')}`, '', '']];
    const replayRows: string[][] = [track, old].map((r, i) => {
      const label = i === 0 ? 'rebuilt from the compact track (a streaming hit today)' : 'copies of recorded chunk objects (the old layout)';
      if (!r) return [label, `error: ${err(i === 0 ? 'replay-track' : 'replay-recorded')}`, '', '', ''];
      const o = r.opsPerSec as number;
      return [label, fmtOps(o * REPLAY_CHUNKS), fmtOps(o), fmtSpread(o, r.min as number, r.max as number), fmtRatio(o / n(old, 'opsPerSec'))];
    });
    const heapRatio = n(h, 'heapDelta') / n(h, 'budget');
    return [
      {
        title: 'Streamed entries: stored size (cache-core codec text, as Redis and SQLite store it)',
        header: ['record', 'stored bytes', 'vs non-streaming', 'extra per chunk'],
        rows,
        targets: [
          {
            name: 'streamed entry vs the same answer stored non-streamed',
            measured: `${fmtRatio(ratio)} (${perChunk.toFixed(2)} B per chunk)`,
            goal: '<= 1.20x + 8 B per chunk',
            // "A few bytes per chunk": at most 8 on top of 1.2x.
            pass: Number.isFinite(ratio) ? n(s, 'streamedBytes') <= 1.2 * n(s, 'wholeBytes') + 8 * n(s, 'chunks') : null,
          },
        ],
        notes: [
          'The track keeps each chunk as a run of shape indexes plus the length of its text; the text is stored once, in the answer. Chunks are rebuilt on replay in the shape Ollama sent them (model and created_at stamped afresh).',
        ],
      },
      {
        title: `Streamed entries: replay (an answer of ${REPLAY_CHUNKS.toLocaleString('en')} chunks per operation)`,
        header: ['replay', 'chunks/s', 'replays/s (median)', 'rounds spread', 'vs old layout'],
        rows: replayRows,
        targets: [
          {
            name: 'replay throughput vs the old layout',
            measured: fmtRatio(replayRatio),
            goal: '>= 1.00x',
            pass: Number.isFinite(replayRatio) ? replayRatio >= 1 : null,
          },
        ],
        notes: [],
      },
      {
        title: 'Memory store default byte budget (DEFAULT_MAX_BYTES) filled with big streamed answers',
        header: ['measure', 'value'],
        rows: h
          ? [
              ['budget (maxBytes default)', fmtBytes(n(h, 'budget'))],
              ['record size (UTF-8 JSON)', fmtBytes(n(h, 'recordBytes'))],
              ['entries kept / inserted', `${n(h, 'entries')} / ${n(h, 'inserts')}`],
              ['accounted by the store', fmtBytes(n(h, 'accountedBytes'))],
              ['measured heap (heapUsed delta after gc)', `${fmtBytes(n(h, 'heapDelta'))} (${fmtRatio(heapRatio)} the budget)`],
            ]
          : [['heap-default-budget', `error: ${err('heap-default-budget')}`]],
        targets: [
          {
            name: 'accounted bytes within the default budget',
            measured: h ? `${fmtBytes(n(h, 'accountedBytes'))} / ${fmtBytes(n(h, 'budget'))}` : 'n/a',
            goal: '<= 100%',
            pass: h ? n(h, 'accountedBytes') <= n(h, 'budget') : null,
          },
        ],
        notes: [
          'A stored value is a frozen object graph, not its JSON text: the text is one string (1 byte a character), each number of the track an element (4 bytes with pointer compression, about as many as its digits and comma in JSON).',
        ],
      },
    ];
  },
};
