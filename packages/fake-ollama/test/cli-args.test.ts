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
    });
  });

  it('returns no options for no flags, and help for --help / -h', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'run', options: {} });
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
  ])('reports a bad value for %j naming the flag', (argv, flag) => {
    const result = parseCliArgs(argv);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' ? result.message : '').toContain(flag);
  });
});
