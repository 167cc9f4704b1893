import { generateProfile, newStamp, openaiChatProfile } from '@tinyllm/ollama-cached/engine';
import { describe, expect, it } from 'vitest';
import { answerBody } from './serialize.js';

const answerJson = (...args: Parameters<typeof answerBody>): string => answerBody(...args).text;

describe('answerBody: a stored answer serialised for one caller', () => {
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

  it("counts the UTF-8 bytes of the text it returns (the Content-Length), with non-ASCII in the answer and in the caller's model name", () => {
    const answer = { model: 'm', created_at: 't', response: 'héllo wörld ✓ 🙂', done: true };
    for (const model of ['m', 'modèle-✓:latest', undefined]) {
      const stamp = newStamp(model);
      for (let i = 0; i < 2; i++) {
        const body = answerBody(generateProfile, answer, stamp);
        expect(body.bytes).toBe(Buffer.byteLength(body.text));
        expect(body.text).toBe(JSON.stringify(generateProfile.freshAnswer(answer, stamp)));
      }
    }
  });

  it('writes each hit its own stamp, also when the hit before it had another one (the template remembers the last values it wrote)', () => {
    const answer = { model: 'm', created_at: 't', response: 'hello', done: true };
    const stamp = newStamp('m');
    const stamps = [stamp, { ...stamp, createdAt: '2026-12-02T08:00:00.001Z' }, { ...stamp, model: 'other:latest' }, stamp];
    for (const each of [...stamps, ...stamps]) {
      const body = answerBody(generateProfile, answer, each);
      expect(body.text).toBe(JSON.stringify(generateProfile.freshAnswer(answer, each)));
      expect(body.bytes).toBe(Buffer.byteLength(body.text));
    }
  });
});
