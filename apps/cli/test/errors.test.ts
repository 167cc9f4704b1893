import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unusedPort } from '@tinyllm/redis-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const fx = useCliFixture();
let env: Record<string, string>;

beforeAll(() => {
  env = envFor(fx.fake.url, join(fx.dir, 'errors.sqlite'));
});

describe('runtime failures say what to do (exit 1)', () => {
  it('Ollama not reachable', async () => {
    const port = await unusedPort();
    const result = await runCli(['run', '--ollama-host', `http://127.0.0.1:${port}`, 'hello'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Ollama at http://127.0.0.1:${port}: is \`ollama serve\` running?`);
    expect(result.stdout).toBe('');
  });

  it('Ollama not reachable through OLLAMA_HOST (host:port form)', async () => {
    const port = await unusedPort();
    const result = await runCli(['run', 'hello'], { env: { ...env, TINYLLM_OLLAMA_HOST: undefined, OLLAMA_HOST: `127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Ollama at http://127.0.0.1:${port}`);
  });

  it('model not found: suggests ollama pull', async () => {
    const result = await runCli(['run', '--model', 'no-such-model:7b', 'hello'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('model "no-such-model:7b" not found');
    expect(result.stderr).toContain('`ollama pull no-such-model:7b`');
  });

  it('cache-stats with Redis unreachable names host:port', async () => {
    const port = await unusedPort();
    const result = await runCli(['cache-stats', '--backend', 'redis', '--redis-port', String(port)], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Redis at 127.0.0.1:${port}`);
    expect(result.stderr).toContain('is redis-server running there? Check --redis-url / --redis-host / --redis-port');
  });

  it('cache-clear with an unknown Redis host gets the same hint', async () => {
    const result = await runCli(['cache-clear', '--no-confirm', '--backend', 'redis', '--redis-host', 'no-such-host.invalid'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at no-such-host.invalid:6379 (unknown host): is redis-server running there?');
  });
});

describe('Redis unreachable is not fatal for run', () => {
  it('serves the answer, warns naming host:port, exits 0', async () => {
    const port = await unusedPort();
    const before = fx.fake.modelCalls();
    const result = await runCli(['run', '--cache-backend', 'redis', '--redis-host', '127.0.0.1', '--redis-port', String(port), 'redis down'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).not.toBe('');
    expect(result.stderr).toContain(`warning: cannot reach Redis at 127.0.0.1:${port}`);
    expect(result.stderr).toContain('answering without the cache');
    expect(result.stderr).toContain('cache unavailable');
    expect(fx.fake.modelCalls() - before).toBe(1);
  });

  it('also through TINYLLM_REDIS_URL', async () => {
    const port = await unusedPort();
    const result = await runCli(['run', 'redis down again'], {
      env: { ...env, TINYLLM_CACHE_BACKEND: 'redis', TINYLLM_REDIS_URL: `redis://127.0.0.1:${port}/2` },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
  });
});

describe('usage errors name the flag (exit 2)', () => {
  const cases: Array<[string[], string]> = [
    [['run', '--cache-ttl', '-5', 'x'], '--cache-ttl'],
    [['run', '--cache-ttl', '1.5', 'x'], '--cache-ttl'],
    [['run', '--temperature', 'abc', 'x'], '--temperature'],
    [['run', '--temperature', '-1', 'x'], '--temperature'],
    [['run', '--cache-backend', 'foo', 'x'], '--cache-backend'],
    [['run', '--redis-port', '99999', 'x'], '--redis-port'],
    [['run', '--redis-port', '0', 'x'], '--redis-port'],
    [['run', '--redis-db', '-1', 'x'], '--redis-db'],
    [['run', '--max-tokens', '0', 'x'], '--max-tokens'],
    [['run', '--output', 'yaml', 'x'], '--output'],
    [['run', '--redis-url', 'http://nope', 'x'], '--redis-url'],
    [['run', '--ollama-host', 'ftp://host', 'x'], '--ollama-host'],
    [['warm', '--concurrency', '0', 'file'], '--concurrency'],
    [['cache-stats', '--backend', 'mongo'], '--backend'],
    [['run', '--bogus', 'x'], "unknown option '--bogus'"],
    [['run'], "missing required argument 'prompt'"],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ];
  for (const [args, named] of cases) {
    it(`tinyllm ${args.join(' ')}`, async () => {
      const before = fx.fake.modelCalls();
      const result = await runCli(args, { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(named);
      expect(fx.fake.modelCalls()).toBe(before);
    });
  }

  it('a bad TINYLLM_* value names the variable', async () => {
    const result = await runCli(['run', 'x'], { env: { ...env, TINYLLM_CACHE_TTL: '-5' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TINYLLM_CACHE_TTL');
    const backend = await runCli(['run', 'x'], { env: { ...env, TINYLLM_CACHE_BACKEND: 'foo' } });
    expect(backend.code).toBe(2);
    expect(backend.stderr).toContain('TINYLLM_CACHE_BACKEND');
    const cache = await runCli(['run', 'x'], { env: { ...env, TINYLLM_CACHE: 'maybe' } });
    expect(cache.code).toBe(2);
    expect(cache.stderr).toContain('TINYLLM_CACHE');
  });

  it('an empty prompt is a usage error', async () => {
    const result = await runCli(['run', '   '], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the prompt is empty');
  });

  it('flags win over environment variables', async () => {
    const result = await runCli(['run', '--cache-ttl', '60', 'flag wins'], { env: { ...env, TINYLLM_CACHE_TTL: '-5' } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('stored for 60 s');
  });
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  for (const command of ['run', 'chat', 'cache-stats', 'cache-clear', 'warm']) {
    it(`${command} --help shows usage and examples`, async () => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: tinyllm ${command}`);
      expect(result.stdout).toContain('Examples:');
    });
  }

  it('--help lists the environment variables and exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const name of [
      'TINYLLM_CACHE_BACKEND',
      'TINYLLM_CACHE_TTL',
      'TINYLLM_MODEL',
      'TINYLLM_REDIS_URL',
      'TINYLLM_SQLITE_PATH',
      'TINYLLM_OLLAMA_HOST',
      'Exit codes',
    ]) {
      expect(result.stdout).toContain(name);
    }
  });

  it('no command prints help and exits 2', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: tinyllm');
  });
});
