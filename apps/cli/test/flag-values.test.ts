import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// How flag values and TINYLLM_* variables are read: bounds in the message, empty variables unset,
// contradicting flags refused.
const fx = useCliFixture();
let n = 0;
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `flags-${++n}.sqlite`));

describe('a value out of range names the range (exit 2)', () => {
  const cases: Array<[string[], string]> = [
    [['run', '--temperature', '101', 'x'], 'Expected a temperature: a number from 0 to 100, such as 0.7.'],
    [['run', '--temperature', '-1', 'x'], 'a number from 0 to 100'],
    [['run', '--top-p', '1.5', 'x'], 'Expected a top-p probability: a number from 0 to 1, such as 0.9.'],
    [['run', '--max-tokens', '0', 'x'], 'a whole number from 1 to 2,147,483,647'],
    [['run', '--num-ctx', '0', 'x'], 'Expected a context size in tokens: a whole number from 1 to 2,147,483,647.'],
    [['run', '--seed', '1.5', 'x'], 'Expected a seed: a whole number from -2,147,483,648 to 2,147,483,647.'],
    [['run', '--timeout-ms', '0', 'x'], 'Expected a timeout in milliseconds: a whole number from 1 to 2,147,483,647.'],
    [['run', '--cache-ttl', '-5', 'x'], 'Expected a whole number of seconds from 1 to 315,360,000 (10 years), or never.'],
    [['run', '--redis-port', '99999', 'x'], 'Expected a port number: a whole number from 1 to 65,535.'],
    [['run', '--redis-db', '-1', 'x'], 'Expected a database index: a whole number from 0 to 1,000,000.'],
    [['warm', '--concurrency', '65', 'file'], 'Expected a number of requests in flight: a whole number from 1 to 64.'],
    [['run', '--max-entries', '0', 'x'], 'Expected a number of entries: a whole number from 1 to 1,000,000,000.'],
    [['run', '--max-bytes', '12 parsecs', 'x'], 'Expected a size in bytes from 1 to 1,125,899,906,842,624 (1 PiB), optionally with a unit'],
  ];
  for (const [args, message] of cases) {
    it(`tinyllm ${args.join(' ')}`, async () => {
      const result = await runCli(args, { env: freshEnv() });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    });
  }
});

describe('an empty TINYLLM_* variable counts as unset', () => {
  it('run and warm behave as without the variables', async () => {
    const empty = Object.fromEntries(
      [
        'TINYLLM_MODEL',
        'TINYLLM_CACHE',
        'TINYLLM_CACHE_TTL',
        'TINYLLM_CACHE_BACKEND',
        'TINYLLM_OUTPUT',
        'TINYLLM_CONCURRENCY',
        'TINYLLM_TIMEOUT_MS',
        'TINYLLM_MAX_ENTRIES',
        'TINYLLM_MAX_BYTES',
        'TINYLLM_REDIS_URL',
        'TINYLLM_REDIS_HOST',
        'TINYLLM_REDIS_PORT',
        'TINYLLM_REDIS_DB',
        'TINYLLM_REDIS_PASSWORD',
        'TINYLLM_REDIS_KEY_PREFIX',
      ].map((name) => [name, '']),
    );
    const env = { ...freshEnv(), ...empty };
    const run = await runCli(['run', 'empty variables'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/cache miss · answered in .+ · stored for 3600 s/);
    expect((fx.fake.requests.at(-1)?.body as { model?: string } | undefined)?.model).toBe('qwen2.5:0.5b');
    const warm = await runCli(['warm', '-'], { env, input: 'empty variables\n' });
    expect(warm.code).toBe(0);
    expect(warm.stdout).toMatch(/^warmed 0 · already cached 1 · failed 0/);
    const stats = await runCli(['cache-stats', '--json'], { env });
    expect(JSON.parse(stats.stdout)).toMatchObject({ backend: 'sqlite', entries: 1 });
  });

  it('an empty TINYLLM_SQLITE_PATH falls back to the default path', async () => {
    const xdg = join(fx.dir, 'xdg-empty');
    const result = await runCli(['cache-stats', '--json'], { env: { XDG_CACHE_HOME: xdg, TINYLLM_SQLITE_PATH: '' } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ location: join(xdg, 'tinyllm', 'cache.sqlite') });
  });
});

describe('flags that contradict each other are a usage error (exit 2)', () => {
  it('--backend and --cache-backend with different stores', async () => {
    for (const args of [
      ['run', '--backend', 'memory', '--cache-backend', 'sqlite', 'x'],
      ['cache-stats', '--cache-backend', 'redis', '--backend', 'sqlite'],
    ]) {
      const before = fx.fake.modelCalls();
      const result = await runCli(args, { env: freshEnv() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--backend \w+ and --cache-backend \w+ disagree: --backend is another name for --cache-backend, so give one of them/);
      expect(fx.fake.modelCalls()).toBe(before);
    }
  });

  it('the same store twice is no contradiction; a flag still wins over the variable', async () => {
    const same = await runCli(['run', '--backend', 'memory', '--cache-backend', 'memory', 'same store'], { env: freshEnv() });
    expect(same.code).toBe(0);
    expect(same.stderr).toContain('memory cache ends with this process');
    const flagWins = await runCli(['run', '--backend', 'memory', 'flag wins'], { env: { ...freshEnv(), TINYLLM_CACHE_BACKEND: 'sqlite' } });
    expect(flagWins.stderr).toContain('memory cache ends with this process');
  });

  it('--json with a --format schema, and an --option that a flag also sets', async () => {
    const json = await runCli(['run', '--json', '--format', '{"type":"object"}', 'x'], { env: freshEnv() });
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('--json asks for format "json" and --format gives a schema: give one of them.');
    const option = await runCli(['run', '--seed', '1', '--option', 'seed=2', 'x'], { env: freshEnv() });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--option seed=... and --seed both set seed: give one of them.');
  });

  it('--max-entries with Redis (which evicts by its own settings)', async () => {
    const result = await runCli(['run', '--backend', 'redis', '--max-entries', '10', 'x'], { env: freshEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-entries bounds the sqlite and memory stores; Redis evicts by its own maxmemory setting');
  });
});
