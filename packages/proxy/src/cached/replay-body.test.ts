import {
  chatProfile,
  type EndpointProfile,
  frameFor,
  generateProfile,
  isDoneEvent,
  newStamp,
  openaiChatProfile,
  openaiCompletionsProfile,
  type StoredResponse,
  storedChunks,
  storeStream,
  storeWhole,
} from '@tinyllm/ollama-cached/engine';
import { describe, expect, it } from 'vitest';
import { replayBody, templatedVariants, templateRuns } from './replay-body.js';

// The body chunk by chunk, as writeStream frames a replay it iterates.
function expected(profile: EndpointProfile, stored: StoredResponse, stamp: ReturnType<typeof newStamp>, openai: boolean, usage: boolean): string {
  let out = '';
  for (const chunk of storedChunks(profile, stored).map((c) => profile.stamp(c, stamp))) {
    if (!openai) out += `${JSON.stringify(chunk)}\n`;
    else {
      const frame = frameFor(profile, chunk, usage);
      if (frame !== undefined) out += isDoneEvent(frame) ? 'data: [DONE]\n\n' : `data: ${JSON.stringify(frame)}\n\n`;
    }
  }
  return out;
}

const streamed = storeStream(generateProfile, [
  { model: 'llama3.2', created_at: 't0', response: 'Hello "quoted" ', done: false },
  { model: 'llama3.2', created_at: 't1', response: 'world\n', done: false },
  { model: 'llama3.2', created_at: 't2', response: '', done: true, done_reason: 'stop', eval_count: 2, total_duration: 5 },
]);
// Most chunks the same text: their text between two chunks' stamps recurs as often as the stamps'
// own glue, so one template run spans several chunks and the runs differ (the many-runs fill).
const repetitive = storeStream(generateProfile, [
  ...['x', 'x', 'x', 'y', 'x', 'x', 'x', 'z'].map((response, i) => ({ model: 'llama3.2', created_at: `t${i}`, response, done: false })),
  { model: 'llama3.2', created_at: 't8', response: '', done: true },
]);
const chat = storeWhole(chatProfile, {
  model: 'llama3.2',
  created_at: 't',
  message: { role: 'assistant', content: 'one two three four five six seven' },
  done: true,
  done_reason: 'stop',
});
const openaiChat = storeWhole(openaiChatProfile, {
  id: 'chatcmpl-7',
  object: 'chat.completion',
  created: 1,
  model: 'llama3.2',
  system_fingerprint: 'fp_ollama',
  choices: [{ index: 0, message: { role: 'assistant', content: 'one two three four five' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
});
const openaiCompletion = storeWhole(openaiCompletionsProfile, {
  id: 'cmpl-7',
  object: 'text_completion',
  created: 1,
  model: 'llama3.2',
  system_fingerprint: 'fp_ollama',
  choices: [{ index: 0, text: 'one two three', finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
});

describe('replayBody: a streaming hit written whole', () => {
  const cases = [
    ['generate, recorded from a stream', generateProfile, streamed, false],
    ['generate, most chunks alike', generateProfile, repetitive, false],
    ['chat, recorded whole', chatProfile, chat, false],
    ['/v1 chat', openaiChatProfile, openaiChat, true],
    ['/v1 completions', openaiCompletionsProfile, openaiCompletion, true],
  ] as const;
  for (const [name, profile, stored, openai] of cases) {
    it(`${name}: the same bytes as chunk by chunk, on the first hit, the template's and later ones`, () => {
      for (const usage of openai ? [false, true] : [false]) {
        for (const model of ['llama3.2', 'Llama3.2:latest', undefined]) {
          // Four hits: plain, plain (the template is made), then from the template.
          for (let hit = 0; hit < 4; hit++) {
            const stamp = newStamp(model ?? 'llama3.2');
            const body = replayBody(profile, { stored, model }, openai, usage, stamp);
            expect(body).toBe(expected(profile, stored, stamp, openai, usage));
          }
        }
      }
      expect(templatedVariants(stored).sort()).toEqual(openai ? ['sse', 'sse+usage'] : ['ndjson']);
    });
  }

  it('fills the stamp fields every chunk repeats once per hit (one run), and still writes answers whose runs differ', () => {
    // The second hit of an answer makes its template.
    for (let hit = 0; hit < 2; hit++) {
      replayBody(generateProfile, { stored: streamed, model: undefined }, false, false);
      replayBody(openaiChatProfile, { stored: openaiChat, model: undefined }, true, false);
      replayBody(generateProfile, { stored: repetitive, model: undefined }, false, false);
    }
    expect(templateRuns(streamed, 'ndjson')).toBe(1);
    expect(templateRuns(openaiChat, 'sse')).toBe(1);
    expect(templateRuns(repetitive, 'ndjson')).toBeGreaterThan(1);
  });

  it('an answer holding the marker text itself is still written right (the template check falls back)', () => {
    const odd = storeWhole(generateProfile, { model: 'm', created_at: 't', response: '\u0000tinyllm:model\u0000 x', done: true });
    for (let hit = 0; hit < 3; hit++) {
      const stamp = newStamp('m');
      expect(replayBody(generateProfile, { stored: odd, model: undefined }, false, false, stamp)).toBe(expected(generateProfile, odd, stamp, false, false));
    }
    expect(templatedVariants(odd)).toEqual([]);
  });

  it('a replay of many chunks is left to the chunk-by-chunk path (undefined), and so is one without a known model', () => {
    const chunks = Array.from({ length: 6000 }, (_, i) => ({ model: 'm', created_at: 't', response: `w${i} `, done: false }));
    const big = storeStream(generateProfile, [...chunks, { model: 'm', created_at: 't', response: '', done: true }]);
    expect(replayBody(generateProfile, { stored: big, model: 'm' }, false, false)).toBeUndefined();
    const anonymous = storeWhole(generateProfile, { created_at: 't', response: 'x', done: true });
    expect(replayBody(generateProfile, { stored: anonymous, model: undefined }, false, false)).toBeUndefined();
  });
});
