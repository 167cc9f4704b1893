import { describe, expect, it } from 'vitest';
import { parseCliArgs, USAGE } from '../src/cli-args.js';

// Command-line parsing for the fake-ollama bin.
describe('parseCliArgs', () => {
  it('parses every flag', () => {
    expect(
      parseCliArgs([
        '--port',
        '11434',
        '--host',
        '0.0.0.0',
        '--latency-ms',
        '200',
        '--tokens-per-second',
        '50',
        '--models',
        'a, b:7b',
        '--answer-tokens',
        '30',
      ]),
    ).toEqual({
      kind: 'run',
      options: { port: 11434, host: '0.0.0.0', latencyMs: 200, tokensPerSecond: 50, models: ['a', 'b:7b'], answerTokens: 30 },
      faults: [],
      digests: [],
    });
  });

  it('returns no options for no flags, and help for --help / -h', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'run', options: {}, faults: [], digests: [] });
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('--tokens-per-second');
  });

  it.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--port', '1.5'], '--port'],
    [['--latency-ms', '-5'], '--latency-ms'],
    [['--tokens-per-second', 'fast'], '--tokens-per-second'],
    [['--answer-tokens', '0'], '--answer-tokens'],
    [['--models', 'a,,b'], '--models'],
    [['--port'], '--port'],
    [['--bogus', '1'], '--bogus'],
    [['--fault', 'explode'], '--fault'],
    [['--fault', 'status'], '--fault'],
    [['--fault', 'status:200'], '--fault'],
    [['--fault', 'slow:100,times=0'], '--fault'],
    [['--digest', 'qwen2.5:0.5b=abc'], '--digest'],
    [['--pull-interval-ms', '-1'], '--pull-interval-ms'],
  ])('reports a bad value for %j naming the flag', (argv, flag) => {
    const result = parseCliArgs(argv);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' ? result.message : '').toContain(flag);
  });

  it('parses faults from flags and $FAKE_OLLAMA_FAULTS, digests, origins and --no-guards (issue 8, item 23)', () => {
    const hex = 'a'.repeat(64);
    const result = parseCliArgs(
      [
        '--fault',
        'status:503,times=2',
        '--fault',
        'midstream:3,route=/api/chat',
        '--fault',
        'slow:250,times=always',
        '--digest',
        `qwen2.5:0.5b=${hex}`,
        '--origins',
        'https://a.dev, https://b.dev',
        '--no-guards',
        '--pull-interval-ms',
        '5',
      ],
      { FAKE_OLLAMA_FAULTS: 'reset; truncate:1,route=/api/pull|/api/push' },
    );
    expect(result).toEqual({
      kind: 'run',
      options: { origins: ['https://a.dev', 'https://b.dev'], guards: false, pullIntervalMs: 5 },
      faults: [
        { fault: { kind: 'reset' }, times: 1 },
        { fault: { kind: 'truncate', afterChunks: 1, route: ['/api/pull', '/api/push'] }, times: 1 },
        { fault: { kind: 'status', status: 503 }, times: 2 },
        { fault: { kind: 'midstream', afterChunks: 3, route: '/api/chat' }, times: 1 },
        { fault: { kind: 'slow', latencyMs: 250 }, times: Number.POSITIVE_INFINITY },
      ],
      digests: [['qwen2.5:0.5b', hex]],
    });
    expect(USAGE).toContain('--fault <spec>');
    const bad = parseCliArgs([], { FAKE_OLLAMA_FAULTS: 'boom' });
    expect(bad.kind === 'error' ? bad.message : '').toContain('FAKE_OLLAMA_FAULTS');
  });
});
