import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllamaServer, fakeAnswer, fakeEmbedding, startFakeOllama, WORDS } from '../src/index.js';
import { post } from './helpers.js';

// Same request → same text; anything that changes output → different text.
let server: FakeOllamaServer;
beforeAll(async () => {
  server = await startFakeOllama();
});
afterAll(() => server.close());

async function text(body: Record<string, unknown>): Promise<string> {
  const res = await post(server.url, '/api/generate', { ...body, stream: false });
  return ((await res.json()) as { response: string }).response;
}

describe('deterministic answers', () => {
  const base = { model: 'qwen2.5:0.5b', prompt: 'Tell me a story', options: { temperature: 0.2, seed: 1 } };

  it('repeats the same text for the same request, whatever stream/keep_alive/key order say', async () => {
    const a = await text(base);
    expect(await text(base)).toBe(a);
    expect(await text({ ...base, keep_alive: '10m' })).toBe(a);
    expect(await text({ options: { seed: 1, temperature: 0.2 }, prompt: base.prompt, model: 'QWEN2.5:0.5b' })).toBe(a);
    expect(a).toBe(fakeAnswer(base).text);
  });

  it('changes the text when temperature, seed, system or model change', async () => {
    const a = await text(base);
    const variants = [
      { ...base, options: { temperature: 0.9, seed: 1 } },
      { ...base, options: { temperature: 0.2, seed: 2 } },
      { ...base, system: 'be brief' },
      { ...base, model: 'llama3.2' },
      { ...base, prompt: 'Tell me a poem' },
    ];
    const texts = await Promise.all(variants.map(text));
    for (const t of texts) expect(t).not.toBe(a);
  });

  it('builds answers only from the fixed word list', () => {
    const answer = fakeAnswer({ model: 'm', prompt: 'p' }, { answerTokens: 40 });
    expect(answer.tokens).toHaveLength(40);
    for (const t of answer.tokens) expect(WORDS).toContain(t.trimEnd());
    expect(answer.text).toBe(answer.tokens.join(''));
  });

  it('makes embeddings deterministic and normalised, with consistent prefixes across dimensions', () => {
    const a = fakeEmbedding('nomic-embed-text', 'hello', 16);
    expect(fakeEmbedding('NOMIC-embed-text:latest', 'hello', 16)).toEqual(a);
    expect(Math.hypot(...a)).toBeCloseTo(1, 9);
    const short = fakeEmbedding('nomic-embed-text', 'hello', 4);
    const scale = Math.hypot(...a.slice(0, 4));
    for (const [i, x] of short.entries()) expect(x).toBeCloseTo((a[i] ?? 0) / scale, 9);
  });
});
