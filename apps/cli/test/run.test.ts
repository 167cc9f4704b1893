import { join } from 'node:path';
import { fakeAnswer } from '@tinyllm/fake-ollama';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

const MODEL = 'qwen2.5:0.5b';
const fx = useCliFixture();
let n = 0;
/** A fresh SQLite file per test, so tests never see each other's entries. */
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `cache-${++n}.sqlite`));

describe('tinyllm run', () => {
  it('misses, then hits from a second process without calling the model again', async () => {
    const env = freshEnv();
    const before = fx.fake.modelCalls();
    const expected = fakeAnswer({ model: MODEL, prompt: 'Why is the sky blue?' }).text;

    const first = await runCli(['run', 'Why is the sky blue?'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${expected}\n`);
    expect(first.stderr).toMatch(/cache miss · answered in .+ · stored for 3600 s/);
    expect(fx.fake.modelCalls() - before).toBe(1);

    const second = await runCli(['run', 'Why is the sky blue?'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/cache hit · saved \d/);
    expect(fx.fake.modelCalls() - before).toBe(1);
  });

  it('shares the cache through XDG_CACHE_HOME when no path is given', async () => {
    const xdg = join(fx.dir, 'xdg');
    const env = { TINYLLM_OLLAMA_HOST: fx.fake.url, XDG_CACHE_HOME: xdg };
    const before = fx.fake.modelCalls();
    expect((await runCli(['run', 'xdg prompt'], { env })).code).toBe(0);
    const second = await runCli(['run', 'xdg prompt'], { env });
    expect(second.stderr).toContain('cache hit');
    expect(fx.fake.modelCalls() - before).toBe(1);
    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { location: string; entries: number };
    expect(stats.location).toBe(join(xdg, 'tinyllm', 'cache.sqlite'));
    expect(stats.entries).toBe(1);
  });

  it('--no-cache reaches the model every time and stores nothing', async () => {
    const env = freshEnv();
    const before = fx.fake.modelCalls();
    for (let i = 0; i < 3; i++) {
      const result = await runCli(['run', '--no-cache', 'uncached prompt'], { env });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('cache off (--no-cache)');
    }
    expect(fx.fake.modelCalls() - before).toBe(3);
    const noCacheEnv = await runCli(['run', 'uncached prompt'], { env: { ...env, TINYLLM_CACHE: 'false' } });
    expect(noCacheEnv.stderr).toContain('cache off');
    expect(fx.fake.modelCalls() - before).toBe(4);
  });

  it('--output json prints the whole response plus cache details', async () => {
    const env = freshEnv();
    const miss = await runCli(['run', '--output', 'json', 'json output prompt'], { env });
    expect(miss.code).toBe(0);
    const missBody = JSON.parse(miss.stdout) as Record<string, unknown> & { cache: Record<string, unknown> };
    expect(missBody).toMatchObject({ model: MODEL, done: true, response: fakeAnswer({ model: MODEL, prompt: 'json output prompt' }).text });
    expect(typeof missBody.total_duration).toBe('number');
    expect(missBody.cache).toEqual({ status: 'miss', key: expect.any(String), ageMs: null, savedMs: null, stored: true });

    const hit = await runCli(['run', '--output', 'json', 'json output prompt'], { env });
    const hitBody = JSON.parse(hit.stdout) as { response: string; cache: { status: string; key: string; ageMs: number; savedMs: number } };
    expect(hitBody.response).toBe(missBody.response);
    expect(hitBody.cache.status).toBe('hit');
    expect(hitBody.cache.key).toBe(missBody.cache.key);
    expect(hitBody.cache.ageMs).toBeGreaterThanOrEqual(0);
    expect(hitBody.cache.savedMs).toBe(Math.round((missBody.total_duration as number) / 1e6));
  });

  it('--force-refresh asks the model again and replaces the entry', async () => {
    const env = freshEnv();
    const before = fx.fake.modelCalls();
    await runCli(['run', 'refresh me'], { env });
    const refreshed = await runCli(['run', '--force-refresh', '--output', 'json', 'refresh me'], { env });
    expect(refreshed.code).toBe(0);
    expect((JSON.parse(refreshed.stdout) as { cache: { status: string } }).cache.status).toBe('refresh');
    expect(refreshed.stderr).toContain('cache refreshed');
    expect(fx.fake.modelCalls() - before).toBe(2);
    const after = await runCli(['run', 'refresh me'], { env });
    expect(after.stderr).toContain('cache hit');
    expect(fx.fake.modelCalls() - before).toBe(2);
  });

  it('--cache-ttl: an entry expires after its TTL', async () => {
    const env = freshEnv();
    const first = await runCli(['run', '--cache-ttl', '1', 'short-lived'], { env });
    expect(first.stderr).toContain('stored for 1 s');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await runCli(['run', 'short-lived'], { env })).stderr).toContain('cache miss');
  });

  it('sends --system, --temperature, --max-tokens and --json to the model, and they are part of the key', async () => {
    const env = freshEnv();
    const args = ['run', '--system', 'Be brief.', '--temperature', '0', '--max-tokens', '5', '--json', 'flags prompt'];
    const result = await runCli(args, { env });
    expect(result.code).toBe(0);
    const sent = fx.fake.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: MODEL, prompt: 'flags prompt', system: 'Be brief.', format: 'json', options: { temperature: 0, num_predict: 5 } });
    const expected = fakeAnswer({
      model: MODEL,
      prompt: 'flags prompt',
      system: 'Be brief.',
      format: 'json',
      options: { temperature: 0, num_predict: 5 },
    }).text;
    expect(result.stdout).toBe(`${expected}\n`);
    // A different temperature is a different question: a miss.
    const other = await runCli(['run', '--system', 'Be brief.', '--temperature', '0.5', '--max-tokens', '5', '--json', 'flags prompt'], { env });
    expect(other.stderr).toContain('cache miss');
    expect((await runCli(args, { env })).stderr).toContain('cache hit');
  });

  it('streams on a terminal (TINYLLM_TTY=1) and replays the same text from the cache', async () => {
    const env = { ...freshEnv(), TINYLLM_TTY: '1' };
    const expected = fakeAnswer({ model: MODEL, prompt: 'stream me' }).text;
    const first = await runCli(['run', 'stream me'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${expected}\n`);
    expect(first.stderr).toContain('cache miss');
    const second = await runCli(['run', 'stream me'], { env });
    expect(second.stdout).toBe(`${expected}\n`);
    expect(second.stderr).toContain('cache hit');
  });

  it('reads the prompt from stdin with "-"', async () => {
    const env = freshEnv();
    const result = await runCli(['run', '-'], { env, input: 'piped prompt' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${fakeAnswer({ model: MODEL, prompt: 'piped prompt' }).text}\n`);
  });

  it('honours TINYLLM_MODEL, with --model winning over it', async () => {
    const env = { ...freshEnv(), TINYLLM_MODEL: 'llama3.2' };
    await runCli(['run', 'which model'], { env });
    expect((fx.fake.requests.at(-1)?.body as { model?: string } | undefined)?.model).toBe('llama3.2');
    await runCli(['run', '--model', MODEL, 'which model'], { env });
    expect((fx.fake.requests.at(-1)?.body as { model?: string } | undefined)?.model).toBe(MODEL);
  });

  it('the memory backend answers but never hits across processes', async () => {
    const env = freshEnv();
    const before = fx.fake.modelCalls();
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['run', '--cache-backend', 'memory', 'memory prompt'], { env });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('cache miss');
      expect(result.stderr).toContain('memory cache ends with this process');
    }
    expect(fx.fake.modelCalls() - before).toBe(2);
  });
});
