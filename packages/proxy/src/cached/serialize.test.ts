import { generateProfile, newStamp, openaiChatProfile } from '@tinyllm/ollama-cached/engine';
import { describe, expect, it } from 'vitest';
import { answerBody, ENCODED_BODIES_BUDGET_BYTES, encodedBodiesHeld, encodedBody, splitBody } from './serialize.js';

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

  it('an answer whose fields come in another order than the stamp names them gets each value in its own place', () => {
    const reordered = { created_at: 't', response: 'r', model: 'm', done: true };
    const openai = { model: 'm', choices: [], created: 1, object: 'chat.completion', id: 'chatcmpl-1' };
    for (const [profile, response] of [
      [generateProfile, reordered],
      [openaiChatProfile, openai],
    ] as const) {
      const stamp = newStamp('other:latest');
      expect(answerJson(profile, response, stamp)).toBe(JSON.stringify(profile.freshAnswer(response, stamp)));
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

  it('hands the same body to hits whose stamp repeats, and a new one when a value changes', () => {
    const answer = { model: 'm', created_at: 't', response: 'same', done: true };
    const stamp = newStamp('m');
    const first = answerBody(generateProfile, answer, stamp);
    expect(answerBody(generateProfile, answer, { ...stamp })).toBe(first);
    const later = answerBody(generateProfile, answer, { ...stamp, createdAt: '2030-01-01T00:00:00.000Z' });
    expect(later).not.toBe(first);
    expect(later.text).toContain('2030-01-01T00:00:00.000Z');
  });

  it('keeps the bytes of only the latest body of an answer: the one it replaces lets them go', () => {
    const answer = { model: 'm', created_at: 't', response: 'replaced', done: true };
    const stamp = newStamp('m');
    const before = encodedBodiesHeld();
    const first = answerBody(generateProfile, answer, stamp);
    encodedBody(first);
    expect(encodedBodiesHeld().bodies).toBe(before.bodies + 1);
    const next = answerBody(generateProfile, answer, { ...stamp, createdAt: '2031-01-01T00:00:00.000Z' });
    expect(first.encoded).toBeUndefined();
    encodedBody(next);
    expect(encodedBodiesHeld()).toEqual({ bodies: before.bodies + 1, bytes: before.bytes + (next.encoded as Buffer).length });
  });
});

describe('encodedBody: the bytes a hit writes', () => {
  it('are the UTF-8 bytes of the text, ASCII or not, made once per body', () => {
    for (const response of ['plain', 'héllo ✓ 🙂']) {
      const body = answerBody(generateProfile, { model: 'm', created_at: 't', response, done: true }, newStamp('m'));
      const bytes = encodedBody(body);
      expect(bytes.equals(Buffer.from(body.text, 'utf8'))).toBe(true);
      expect(bytes.length).toBe(body.bytes);
      expect(encodedBody(body)).toBe(bytes);
    }
  });

  it('keep at most the budget: the oldest bodies let their bytes go, and make them again when asked', () => {
    const big = 'x'.repeat(256 * 1024);
    const bodies = Array.from({ length: 40 }, (_, i) =>
      answerBody(generateProfile, { model: 'm', created_at: 't', response: `${i}${big}`, done: true }, newStamp('m')),
    );
    for (const body of bodies) encodedBody(body);
    const held = encodedBodiesHeld();
    expect(held.bytes).toBeLessThanOrEqual(ENCODED_BODIES_BUDGET_BYTES);
    expect(held.bytes).toBeGreaterThan(ENCODED_BODIES_BUDGET_BYTES - 300 * 1024);
    const first = bodies[0] as (typeof bodies)[number];
    const last = bodies[39] as (typeof bodies)[number];
    expect(first.encoded).toBeUndefined();
    expect(last.encoded).toBeDefined();
    expect(encodedBody(first).equals(Buffer.from(first.text))).toBe(true);
    expect(encodedBodiesHeld().bytes).toBeLessThanOrEqual(ENCODED_BODIES_BUDGET_BYTES);
  });
});

describe('splitBody: a /v1 answer as a head of text and the rest as bytes made once', () => {
  /** A stored /v1 chat completion, its fields in Ollama's order. */
  const completion = (content: string) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content } }],
  });

  it('joins into the bytes of the stamped answer and its newline, whatever the order of its fields, ASCII or not', () => {
    const usual = completion('héllo 🙂 '.repeat(20));
    // The fields first, in another order than the stamp names them.
    const reordered = {
      model: 'm',
      created: 1,
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(50) } }],
    };
    for (const response of [usual, reordered]) {
      for (const model of ['m', 'modèle:latest']) {
        const stamp = newStamp(model);
        for (let i = 0; i < 2; i++) {
          const split = splitBody(openaiChatProfile, response, stamp, '\n');
          expect(split).toBeDefined();
          const { head, headBytes, rest } = split as NonNullable<typeof split>;
          expect(headBytes).toBe(Buffer.byteLength(head));
          expect(Buffer.concat([Buffer.from(head), rest]).toString('utf8')).toBe(`${JSON.stringify(openaiChatProfile.freshAnswer(response, stamp))}\n`);
        }
      }
    }
  });

  it('and answerBody, called in turn on one answer with changing stamps, each give every caller its own values', () => {
    const response = completion('y'.repeat(200));
    const base = newStamp('m');
    const stamps = [base, { ...base, serial: 7 }, { ...base, serial: 8, model: 'other:latest' }, { ...base, serial: 7 }, base];
    for (const stamp of [...stamps, ...stamps]) {
      const expected = JSON.stringify(openaiChatProfile.freshAnswer(response, stamp));
      const split = splitBody(openaiChatProfile, response, stamp, '');
      expect(split && Buffer.concat([Buffer.from(split.head), split.rest]).toString()).toBe(expected);
      // The same stamp again, through answerBody: not the body an earlier stamp left behind.
      expect(answerBody(openaiChatProfile, response, stamp).text).toBe(expected);
    }
  });

  it('is not made when a field comes after most of the answer (an embedding: its model after its vectors)', () => {
    const embedding = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: Array.from({ length: 64 }, (_, i) => i / 7) }], model: 'm' };
    expect(splitBody(openaiChatProfile, embedding, newStamp('m'), '\n')).toBeUndefined();
    const idLast = { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(200) } }], id: 'chatcmpl-1' };
    expect(splitBody(openaiChatProfile, idLast, newStamp('m'), '\n')).toBeUndefined();
  });
});
