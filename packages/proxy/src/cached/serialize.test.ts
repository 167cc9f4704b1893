import { generateProfile, newStamp, openaiChatProfile } from '@tinyllm/ollama-cached/engine';
import { describe, expect, it } from 'vitest';
import { answerJson } from './serialize.js';

describe('answerJson: a stored answer serialised for one caller', () => {
  it('is exactly JSON.stringify of the stamped copy, native and /v1, template or not', () => {
    const native = { model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', response: 'hi "there"', done: true, context: [1, 2] };
    const openai = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'llama3.2',
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' } }],
    };
    for (const [profile, response] of [
      [generateProfile, native],
      [openaiChatProfile, openai],
    ] as const) {
      for (const model of ['llama3.2', 'Llama3.2:latest', undefined]) {
        const stamp = newStamp(model);
        const expected = JSON.stringify(profile.freshAnswer(response, stamp));
        expect(answerJson(profile, response, stamp)).toBe(expected);
        expect(answerJson(profile, response, stamp)).toBe(expected); // from the template the first call made
      }
    }
  });

  it('an answer that contains the hole marker is still serialised right', () => {
    const odd = { model: 'm', created_at: 't', response: '\u0000tinyllm-hole\u0000', done: true };
    const stamp = newStamp('m');
    expect(answerJson(generateProfile, odd, stamp)).toBe(JSON.stringify(generateProfile.freshAnswer(odd, stamp)));
  });
});
