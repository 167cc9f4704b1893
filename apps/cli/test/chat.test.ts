import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const fx = useCliFixture();
let n = 0;
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `chat-${++n}.sqlite`));
const lastBody = (): Record<string, unknown> => fx.fake.requests.at(-1)?.body as Record<string, unknown>;

const HISTORY = [
  { role: 'user', content: 'My name is Ada.' },
  { role: 'assistant', content: 'Hello Ada!' },
];

describe('tinyllm chat', () => {
  it('one message: a miss, then a hit from another process', async () => {
    const env = freshEnv();
    const before = fx.fake.modelCalls();
    const expected = fakeAnswer({ model: MODEL, messages: [{ role: 'user', content: 'Hi there' }] }).text;
    const first = await runCli(['chat', 'Hi there'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${expected}\n`);
    expect(first.stderr).toMatch(/cache miss · answered in .+ · stored for 3600 s/);
    expect(lastBody()).toMatchObject({ model: MODEL, messages: [{ role: 'user', content: 'Hi there' }] });
    const second = await runCli(['chat', 'Hi there'], { env });
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain('cache hit');
    expect(fx.fake.modelCalls() - before).toBe(1);
  });

  it('several turns from a JSON-lines file, then the message; another history is another question', async () => {
    const env = freshEnv();
    const file = join(fx.dir, `history-${n}.jsonl`);
    writeFileSync(file, `${HISTORY.map((m) => JSON.stringify(m)).join('\n')}\n\n`);
    const result = await runCli(['chat', '--messages', file, 'What is my name?'], { env });
    expect(result.code).toBe(0);
    const sent = [...HISTORY, { role: 'user', content: 'What is my name?' }];
    expect(lastBody()).toMatchObject({ messages: sent });
    expect(result.stdout).toBe(`${fakeAnswer({ model: MODEL, messages: sent }).text}\n`);
    expect((await runCli(['chat', '--messages', file, 'What is my name?'], { env })).stderr).toContain('cache hit');
    writeFileSync(file, JSON.stringify({ role: 'user', content: 'My name is Grace.' }));
    expect((await runCli(['chat', '--messages', file, 'What is my name?'], { env })).stderr).toContain('cache miss');
  });

  it('a JSON array on stdin, with --output json', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, ...HISTORY, { role: 'user', content: 'And mine?' }];
    const result = await runCli(['chat', '--messages', '-', '--output', 'json'], { env: freshEnv(), input: JSON.stringify(messages, null, 2) });
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { message: { role: string; content: string }; done: boolean; cache: { status: string } };
    expect(body).toMatchObject({ done: true, message: { role: 'assistant', content: fakeAnswer({ model: MODEL, messages }).text }, cache: { status: 'miss' } });
    expect(lastBody()).toMatchObject({ messages });
  });

  it('--system comes first, and matches a warm line with "system" (warm then chat hits)', async () => {
    const env = freshEnv();
    const warm = await runCli(['warm', '-'], { env, input: `${JSON.stringify({ messages: [{ role: 'user', content: 'Warm chat' }], system: 'Be kind.' })}\n` });
    expect(warm.code).toBe(0);
    const before = fx.fake.modelCalls();
    const result = await runCli(['chat', '--system', 'Be kind.', 'Warm chat'], { env });
    expect(result.stderr).toContain('cache hit');
    expect(fx.fake.modelCalls()).toBe(before);
  });

  it('streams on a terminal and replays the same text from the cache', async () => {
    const env = { ...freshEnv(), TINYLLM_TTY: '1' };
    const expected = fakeAnswer({ model: MODEL, messages: [{ role: 'user', content: 'stream a chat' }] }).text;
    const first = await runCli(['chat', 'stream a chat'], { env });
    expect(first.stdout).toBe(`${expected}\n`);
    expect(lastBody()).toMatchObject({ stream: true });
    const second = await runCli(['chat', 'stream a chat'], { env });
    expect(second.stdout).toBe(`${expected}\n`);
    expect(second.stderr).toContain('cache hit');
  });

  it('--image goes with the last user message, as base64', async () => {
    const image = join(fx.dir, 'pixel.png');
    writeFileSync(image, Buffer.from('89504e470d0a1a0a', 'hex'));
    const file = join(fx.dir, `with-image-${n}.jsonl`);
    writeFileSync(
      file,
      [
        { role: 'user', content: 'Look' },
        { role: 'assistant', content: 'At what?' },
      ]
        .map((m) => JSON.stringify(m))
        .join('\n'),
    );
    const result = await runCli(['chat', '--model', 'llava:7b', '--messages', file, '--image', image], { env: freshEnv() });
    expect(result.code).toBe(0);
    const messages = lastBody().messages as Array<{ images?: string[] }>;
    expect(messages[0]?.images).toEqual([Buffer.from('89504e470d0a1a0a', 'hex').toString('base64')]);
    expect(messages[1]?.images).toBeUndefined();
  });
});

describe('chat usage errors (exit 2)', () => {
  const cases: Array<[string, string[], string | undefined, string]> = [
    ['nothing to send', ['chat'], undefined, 'nothing to send: give a message (tinyllm chat "Hi") or a conversation'],
    [
      'an unknown role, with its line',
      ['chat', '--messages', '-'],
      '{"role":"user","content":"a"}\n{"role":"bot","content":"b"}',
      'line 2: "role" must be system, user, assistant or tool (not "bot")',
    ],
    ['an unknown field', ['chat', '--messages', '-'], '[{"role":"user","content":"a","contnet":"b"}]', 'message 1: unknown field "contnet"'],
    ['a line that is not JSON', ['chat', '--messages', '-'], '{"role":"user","content":"a"}\nhello', 'the conversation in stdin, line 2: invalid JSON'],
    ['content that is not a string', ['chat', '--messages', '-'], '[{"role":"user","content":5}]', 'message 1: "content" must be a string'],
    ['an empty conversation', ['chat', '--messages', '-'], '\n\n', 'the conversation in stdin is empty'],
    [
      '--system and a leading system message',
      ['chat', '--system', 'x', '--messages', '-'],
      '{"role":"system","content":"y"}\n{"role":"user","content":"a"}',
      '--system and the system message the conversation starts with: give one of them.',
    ],
    ['stdin twice', ['chat', '--messages', '-', '-'], '[]', 'the message and --messages both read stdin ("-")'],
    [
      '--image without a user message',
      ['chat', '--messages', '-', '--image', 'x.png'],
      '{"role":"system","content":"y"}',
      '--image goes with a user message, and the conversation has none',
    ],
    ['an empty message', ['chat', '  '], undefined, 'the message is empty'],
  ];
  for (const [name, args, input, message] of cases) {
    it(name, async () => {
      const before = fx.fake.modelCalls();
      const result = await runCli(args, { env: freshEnv(), ...(input === undefined ? {} : { input }) });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(fx.fake.modelCalls()).toBe(before);
    });
  }
});
