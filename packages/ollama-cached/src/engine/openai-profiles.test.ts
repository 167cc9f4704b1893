import { describe, expect, it } from 'vitest';
import { DONE_EVENT, frameFor, openaiChatProfile, openaiCompletionsProfile } from './openai-profiles.js';
import { newStamp } from './profile.js';
import { storedChunks, storeStream, storeWhole } from './stored-response.js';

// Frames as Ollama's OpenAI layer sends them (reference §2.2 and §2.3, ollama fb30760 openai/openai.go).
const head = { id: 'chatcmpl-417', object: 'chat.completion.chunk', created: 1764578231, model: 'qwen2.5:0.5b', system_fingerprint: 'fp_ollama' };
const chatFrames = [
  { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: 'The' }, finish_reason: null }] },
  { ...head, choices: [{ index: 0, delta: { content: ' sky' }, finish_reason: null }] },
  { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { ...head, choices: [], usage: { prompt_tokens: 31, completion_tokens: 12, total_tokens: 43 } },
  { ...DONE_EVENT },
];

describe('the /v1/chat/completions profile', () => {
  it('assembles the completion a non-streaming request gets', () => {
    expect(openaiChatProfile.aggregate(chatFrames)).toEqual({
      id: 'chatcmpl-417',
      object: 'chat.completion',
      created: 1764578231,
      model: 'qwen2.5:0.5b',
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The sky' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 31, completion_tokens: 12, total_tokens: 43 },
    });
  });

  it('replays a recorded stream frame for frame, with a fresh id and created and the caller spelling of the model', () => {
    const stored = JSON.parse(JSON.stringify(storeStream(openaiChatProfile, chatFrames)));
    const stamp = { ...newStamp('Qwen2.5:0.5B'), serial: 7, created: 1800000000 };
    const replay = storedChunks(openaiChatProfile, stored).map((chunk) => openaiChatProfile.stamp(chunk, stamp));
    const expected = chatFrames.map((frame) => ('id' in frame ? { ...frame, id: 'chatcmpl-7', created: 1800000000, model: 'Qwen2.5:0.5B' } : frame));
    expect(replay).toEqual(expected);
    expect(Object.keys(replay[0] ?? {})).toEqual(Object.keys(chatFrames[0] ?? {}));
  });

  it('splits a non-streamed completion into role, content, finish, usage and [DONE] frames', () => {
    const whole = openaiChatProfile.aggregate(chatFrames);
    const frames = storedChunks(openaiChatProfile, storeWhole(openaiChatProfile, whole));
    expect(frames[0]).toMatchObject({ choices: [{ delta: { role: 'assistant', content: 'The sky' } }] });
    expect(frames.at(-3)).toMatchObject({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    expect(frames.at(-2)).toMatchObject({ choices: [], usage: whole.usage });
    expect(frames.at(-1)).toEqual(DONE_EVENT);
    expect(openaiChatProfile.aggregate(frames).choices).toEqual(whole.choices);
  });

  it('tool calls and reasoning survive record and replay', () => {
    const frames = [
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '', reasoning: 'hmm' }, finish_reason: null }] },
      {
        ...head,
        choices: [
          {
            index: 0,
            delta: {
              content: '',
              tool_calls: [{ id: 'call_k3j9x0ab', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
            },
            finish_reason: null,
          },
        ],
      },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { ...head, choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
      { ...DONE_EVENT },
    ];
    const whole = openaiChatProfile.aggregate(frames);
    expect(whole.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '',
          reasoning: 'hmm',
          tool_calls: [{ id: 'call_k3j9x0ab', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(openaiChatProfile.isStorable(whole)).toBe(true);
    expect(storedChunks(openaiChatProfile, JSON.parse(JSON.stringify(storeStream(openaiChatProfile, frames))))).toHaveLength(frames.length);
  });

  it('a stream without a finish reason is not storable', () => {
    expect(openaiChatProfile.isStorable(openaiChatProfile.aggregate(chatFrames.slice(0, 2)))).toBe(false);
  });

  it('frameFor drops the usage frame unless the caller asked for include_usage', () => {
    const usage = chatFrames[3] as Record<string, unknown>;
    expect(frameFor(openaiChatProfile, usage, false)).toBeUndefined();
    expect(frameFor(openaiChatProfile, usage, true)).toBe(usage);
  });
});

describe('the /v1/completions profile', () => {
  const h = { id: 'cmpl-12', object: 'text_completion', created: 1764578231 };
  const tail = { model: 'qwen2.5:0.5b', system_fingerprint: 'fp_ollama' };
  const zero = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const frames = [
    { ...h, choices: [{ text: 'The', index: 0, finish_reason: null }], ...tail, usage: zero },
    { ...h, choices: [{ text: '', index: 0, finish_reason: 'stop' }], ...tail, usage: zero },
    { ...h, choices: [], ...tail, usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
    { ...DONE_EVENT },
  ];

  it('assembles the text_completion and keeps choices before model in replayed frames', () => {
    const whole = openaiCompletionsProfile.aggregate(frames);
    expect(whole).toMatchObject({ object: 'text_completion', choices: [{ text: 'The', index: 0, finish_reason: 'stop' }], usage: { total_tokens: 6 } });
    const replay = storedChunks(openaiCompletionsProfile, storeWhole(openaiCompletionsProfile, whole)).map((c) =>
      openaiCompletionsProfile.stamp(c, newStamp('qwen2.5:0.5b')),
    );
    expect(Object.keys(replay[0] ?? {})).toEqual(['id', 'object', 'created', 'choices', 'model', 'system_fingerprint']);
  });

  it('frameFor adds zero usage to every frame for include_usage callers, and strips it for the others', () => {
    const bare = { ...h, choices: [{ text: 'x', index: 0, finish_reason: null }], ...tail };
    expect(frameFor(openaiCompletionsProfile, bare, true)).toMatchObject({ usage: zero });
    expect(frameFor(openaiCompletionsProfile, frames[0] as Record<string, unknown>, false)).not.toHaveProperty('usage');
  });
});
