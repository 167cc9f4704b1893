/**
 * The one workload every row uses: 1,000 distinct, realistic Ollama requests (half generate, half
 * chat; ~200-character prompts; sampling options) and a ~2 KB Ollama response for each.
 * Deterministic (seeded PRNG), so every child process builds byte-identical inputs.
 */

export const REQUEST_COUNT = 1000;

/** An Ollama generate or chat request body, as a caller would send it. */
export type BenchRequest = { model: string; [field: string]: unknown };

// mulberry32: tiny, fast, deterministic; quality is irrelevant here, reproducibility is not.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'cache latency request model token prompt answer stream server client memory redis sqlite ' +
  'benchmark vector context window sampling temperature seed kernel thread socket buffer ' +
  'explain summarise compare translate refactor the a of for with and in on about why how what'
).split(' ');

function sentence(rand: () => number, chars: number): string {
  let out = '';
  while (out.length < chars) out += (out ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
  return out;
}

/** 1,000 distinct requests; the index is written into each prompt so no two share a key. */
export function makeRequests(count = REQUEST_COUNT): BenchRequest[] {
  const rand = prng(42);
  const out: BenchRequest[] = [];
  for (let i = 0; i < count; i++) {
    const prompt = `#${i} ${sentence(rand, 190)}?`;
    if (i % 2 === 0) {
      out.push({
        model: 'llama3.2',
        prompt,
        system: 'You are a concise assistant.',
        stream: false,
        options: { temperature: 0.7, top_p: 0.9, num_predict: 256, seed: i % 7, num_ctx: 4096 },
      });
    } else {
      out.push({
        model: 'qwen2.5:0.5b',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: prompt },
        ],
        stream: false,
        options: { temperature: 0.2, top_k: 40, num_predict: 300 },
        keep_alive: '5m',
      });
    }
  }
  // Through JSON, as a request arrives over HTTP: every string flat. The concatenated prompts are
  // ropes otherwise, and the first hash flattens them, freeing ~1.4 KB per request mid-measurement.
  return JSON.parse(JSON.stringify(out)) as BenchRequest[];
}

/** A ~2 KB non-streaming Ollama answer to request i (generate: response + short context; chat: message). */
export function makeResponse(request: BenchRequest, i: number): Record<string, unknown> {
  // Parsed from JSON, as a client gets it from Ollama (flat strings, JSON.parse's object shapes).
  return JSON.parse(JSON.stringify(buildResponse(request, i))) as Record<string, unknown>;
}

function buildResponse(request: BenchRequest, i: number): Record<string, unknown> {
  const rand = prng(1000 + i);
  const metrics = {
    total_duration: 4_812_345_678 + i,
    load_duration: 12_345_678,
    prompt_eval_count: 48 + (i % 13),
    prompt_eval_duration: 123_456_789,
    eval_count: 256,
    eval_duration: 4_600_000_000 + i,
  };
  const created_at = `2025-11-26T06:${String(i % 60).padStart(2, '0')}:00.123456789Z`;
  if (request.messages !== undefined) {
    return {
      model: request.model,
      created_at,
      message: { role: 'assistant', content: sentence(rand, 1780) },
      done: true,
      done_reason: 'stop',
      ...metrics,
    };
  }
  return {
    model: request.model,
    created_at,
    response: sentence(rand, 1420),
    done: true,
    done_reason: 'stop',
    context: Array.from({ length: 64 }, () => Math.floor(rand() * 150_000)),
    ...metrics,
  };
}

/** Average UTF-8 JSON size of the responses: the "payload" of the memory targets. */
export function averagePayloadBytes(responses: readonly unknown[]): number {
  let total = 0;
  for (const r of responses) total += Buffer.byteLength(JSON.stringify(r));
  return total / responses.length;
}
