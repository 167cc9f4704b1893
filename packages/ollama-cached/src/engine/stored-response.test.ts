import { describe, expect, it } from 'vitest';
import { chatProfile, generateProfile } from './native-profiles.js';
import { storedChunks, storeStream, storeWhole } from './stored-response.js';

const created = '2026-12-01T00:00:00.000000001Z';
const final = { done: true, done_reason: 'stop', total_duration: 123, eval_count: 99, prompt_eval_count: 7 };

function generateStream(pieces: string[]): Array<Record<string, unknown>> {
  return [
    ...pieces.map((response) => ({ model: 'm', created_at: created, response, done: false })),
    { model: 'm', created_at: created, response: '', ...final, context: [1, 2, 3] },
  ];
}

const strip = (chunk: Record<string, unknown>) => {
  const { model: _m, created_at: _c, ...rest } = chunk;
  return rest;
};

// Issue 15 item 3: a streamed answer is stored as its text once plus the chunk boundaries.
describe('compact streamed entries', () => {
  it('a 100,000-chunk answer costs at most 1.2x the whole answer plus a few bytes per chunk', () => {
    const pieces = Array.from({ length: 100_000 }, (_, i) => `w${i % 97} `);
    const chunks = generateStream(pieces);
    const streamed = JSON.stringify(storeStream(generateProfile, chunks));
    const whole = JSON.stringify(storeWhole(generateProfile, generateProfile.aggregate(chunks)));
    const perChunk = (streamed.length - whole.length) / chunks.length;
    expect(streamed.length).toBeLessThanOrEqual(whole.length * 1.2 + chunks.length * 4);
    expect(perChunk).toBeLessThan(4);
  });

  it('rebuilds every chunk exactly, thinking, tool calls and logprobs included', () => {
    const chunks = [
      { model: 'm', created_at: created, message: { role: 'assistant', content: '', thinking: 'Let me ' }, done: false },
      { model: 'm', created_at: created, message: { role: 'assistant', content: '', thinking: 'think.' }, done: false },
      { model: 'm', created_at: created, message: { role: 'assistant', content: 'Héllo 👋' }, done: false, logprobs: [{ token: 'Héllo', logprob: -0.1 }] },
      { model: 'm', created_at: created, message: { role: 'assistant', content: ' world' }, done: false },
      {
        model: 'm',
        created_at: created,
        message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', function: { index: 0, name: 'f', arguments: { a: 1 } } }] },
        done: false,
      },
      { model: 'm', created_at: created, message: { role: 'assistant', content: '' }, ...final },
    ];
    const stored = storeStream(chatProfile, chunks);
    expect(stored.response).toMatchObject({ message: { content: 'Héllo 👋 world', thinking: 'Let me think.' } });
    expect(storedChunks(chatProfile, JSON.parse(JSON.stringify(stored)))).toEqual(chunks.map(strip));
  });

  it('a track that does not add up to the text falls back to splitting the answer', () => {
    const stored = storeStream(generateProfile, generateStream(['a ', 'b ', 'c']));
    const damaged = { ...stored, stream: { ...stored.stream, lengths: [[], [5, 5, 5, 0]] } } as typeof stored;
    const chunks = storedChunks(generateProfile, damaged);
    expect(chunks.map((c) => c.response).join('')).toBe('a b c');
    expect(chunks.at(-1)).toMatchObject({ done: true, eval_count: 99 });
  });
});

describe('stamped chunks rebuilt in one pass', () => {
  const chatStream = [
    { model: 'm', created_at: created, message: { role: 'assistant', content: 'Hel' }, done: false },
    { model: 'm', created_at: created, message: { role: 'assistant', content: 'lo' }, done: false },
    { model: 'm', created_at: created, message: { role: 'assistant', content: '' }, ...final },
  ];

  it('are exactly the chunks stamped one by one, in Ollama key order, native and /v1', async () => {
    const { newStamp } = await import('./profile.js');
    const { openaiChatProfile } = await import('./openai-profiles.js');
    const stamp = newStamp('M:latest');
    const stored = storeStream(chatProfile, chatStream);
    const oneByOne = storedChunks(chatProfile, stored).map((chunk) => chatProfile.stamp(chunk, stamp));
    const onePass = storedChunks(chatProfile, stored, stamp);
    expect(onePass).toEqual(oneByOne);
    expect(onePass.map((chunk) => Object.keys(chunk))).toEqual(oneByOne.map((chunk) => Object.keys(chunk)));
    expect(onePass[0]).toMatchObject({ model: 'M:latest', created_at: stamp.createdAt, message: { content: 'Hel' } });
    const sse = [
      {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }],
      },
      {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
      },
    ];
    const openai = storeStream(openaiChatProfile, sse);
    expect(storedChunks(openaiChatProfile, openai, stamp)).toEqual(
      storedChunks(openaiChatProfile, openai).map((chunk) => openaiChatProfile.stamp(chunk, stamp)),
    );
  });

  it("are the caller's own: changing one changes neither the stored answer nor the next replay", async () => {
    const { newStamp } = await import('./profile.js');
    const stored = storeStream(chatProfile, chatStream);
    const before = JSON.stringify(stored);
    const first = storedChunks(chatProfile, stored, newStamp('m'));
    (first[0]?.message as { content: string }).content = 'changed';
    expect(JSON.stringify(stored)).toBe(before);
    expect(storedChunks(chatProfile, stored, newStamp('m'))[0]).toMatchObject({ message: { content: 'Hel' } });
  });
});
