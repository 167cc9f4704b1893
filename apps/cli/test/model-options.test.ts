import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// The flags people reach for after --temperature: they reach Ollama, they are part of the key, and
// a warm line that sets the same fields is reached by run with the same flags.
const fx = useCliFixture();
let n = 0;
const freshEnv = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, `options-${++n}.sqlite`));
const lastBody = (): Record<string, unknown> => fx.fake.requests.at(-1)?.body as Record<string, unknown>;

describe('model options reach Ollama and the key', () => {
  it('--seed, --top-p, --num-ctx and typed --option values', async () => {
    const env = freshEnv();
    const args = [
      'run',
      '--seed',
      '42',
      '--top-p',
      '0.9',
      '--num-ctx',
      '8192',
      '--option',
      'repeat_penalty=1.1',
      '--option',
      'stop=["\\n", "END"]',
      '--option',
      'penalize_newline=false',
      '--option',
      'mirostat=2',
      '--option',
      'tfs_label=plain words',
      'options prompt',
    ];
    const result = await runCli(args, { env });
    expect(result.code).toBe(0);
    expect(lastBody()).toMatchObject({
      options: {
        seed: 42,
        top_p: 0.9,
        num_ctx: 8192,
        repeat_penalty: 1.1,
        stop: ['\n', 'END'],
        penalize_newline: false,
        mirostat: 2,
        tfs_label: 'plain words',
      },
    });
    expect((await runCli(args, { env })).stderr).toContain('cache hit');
    const otherSeed = args.map((arg) => (arg === '42' ? '43' : arg));
    expect((await runCli(otherSeed, { env })).stderr).toContain('cache miss');
  });

  it('--option for a flag of its own is checked like the flag', async () => {
    const result = await runCli(['run', '--option', 'top_p=2', 'x'], { env: freshEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--option <key=value>' argument 'top_p=2' is invalid. Expected a top-p probability: a number from 0 to 1");
    const bad = await runCli(['run', '--option', 'stop=["unclosed"', 'x'], { env: freshEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('stop: invalid JSON');
    const twice = await runCli(['run', '--option', 'mirostat=1', '--option', 'mirostat=2', 'x'], { env: freshEnv() });
    expect(twice.stderr).toContain('mirostat is given twice.');
  });

  it('--format with a schema, inline or from @file, is sent as given; the same schema hits', async () => {
    const env = freshEnv();
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] };
    const inline = await runCli(['run', '--format', JSON.stringify(schema), '--output', 'json', 'schema prompt'], { env });
    expect(inline.code).toBe(0);
    expect(lastBody()).toMatchObject({ format: schema });
    expect(Object.keys(JSON.parse((JSON.parse(inline.stdout) as { response: string }).response))).toEqual(['name', 'age']);
    const file = join(fx.dir, 'schema.json');
    writeFileSync(file, JSON.stringify(schema, null, 2));
    expect((await runCli(['run', '--format', `@${file}`, 'schema prompt'], { env })).stderr).toContain('cache hit');
    expect((await runCli(['run', '--json', 'schema prompt'], { env })).stderr).toContain('cache miss');
    expect(lastBody()).toMatchObject({ format: 'json' });
    expect((await runCli(['run', '--format', 'json', 'schema prompt'], { env })).stderr).toContain('cache hit');
  });

  it('--format errors name the flag (exit 2)', async () => {
    for (const [value, message] of [
      ['{"type": ', 'the schema is not valid JSON'],
      ['yaml', 'Expected json, a JSON schema'],
      ['@/no/such/schema.json', 'cannot read the schema file /no/such/schema.json: no such file'],
    ] as const) {
      const result = await runCli(['run', '--format', value, 'x'], { env: freshEnv() });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("option '--format <format>'");
      expect(result.stderr).toContain(message);
    }
  });

  it('--think: thinking goes to stderr (text) or the JSON, never into the answer on stdout', async () => {
    // qwen3 thinks; the fake, like Ollama, refuses think for a model without the capability.
    const env = freshEnv();
    const text = await runCli(['run', '--model', 'qwen3:0.6b', '--think', 'high', 'think about it'], { env });
    expect(text.code).toBe(0);
    expect(lastBody()).toMatchObject({ think: 'high' });
    const json = JSON.parse((await runCli(['run', '--model', 'qwen3:0.6b', '--think', 'high', '--output', 'json', 'think about it'], { env })).stdout) as {
      response: string;
      thinking: string;
      cache: { status: string };
    };
    expect(json.cache.status).toBe('hit');
    expect(json.thinking.length).toBeGreaterThan(0);
    expect(text.stdout).toBe(`${json.response}\n`);
    expect(text.stderr).toContain(json.thinking.trimEnd());
    const streamed = await runCli(['run', '--model', 'qwen3:0.6b', '--think', 'high', 'think about it'], { env: { ...env, TINYLLM_TTY: '1' } });
    expect(streamed.stdout).toBe(`${json.response}\n`);
    expect(streamed.stderr).toContain(json.thinking.trimEnd());
    expect((await runCli(['run', '--model', 'qwen3:0.6b', '--think', 'false', 'think about it'], { env })).stderr).toContain('cache miss');
  });

  it('--image: the file is sent as base64 and keyed by its content, not its path', async () => {
    // llava has vision; the fake, like Ollama, refuses images for a model without it.
    const env = freshEnv();
    const bytes = Buffer.from('ffd8ffe000104a464946', 'hex');
    const [a, b] = [join(fx.dir, 'a.jpg'), join(fx.dir, 'b.jpg')];
    writeFileSync(a, bytes);
    writeFileSync(b, bytes);
    expect((await runCli(['run', '--model', 'llava:7b', '--image', a, 'describe'], { env })).code).toBe(0);
    expect(lastBody()).toMatchObject({ images: [bytes.toString('base64')] });
    expect((await runCli(['run', '--model', 'llava:7b', '--image', b, 'describe'], { env })).stderr).toContain('cache hit');
    const missing = await runCli(['run', '--model', 'llava:7b', '--image', join(fx.dir, 'nope.jpg'), 'describe'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read --image ${join(fx.dir, 'nope.jpg')}: no such file`);
  });

  it('--timeout-ms bounds a request Ollama never answers (exit 1, nothing cached)', async () => {
    fx.fake.failNext({ kind: 'hang' });
    const env = freshEnv();
    const result = await runCli(['run', '--timeout-ms', '300', 'hang on'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Ollama at ${fx.fake.url} did not answer within 0.3 s`);
    expect((await runCli(['run', 'hang on'], { env })).stderr).toContain('cache miss');
  });
});

describe('warm lines are reachable by run with the same flags', () => {
  it('a line with "seed" (and options) hits run --seed', async () => {
    const env = freshEnv();
    const lines = [
      { prompt: 'seeded prompt', seed: 7, temperature: 0.8 },
      { prompt: 'tuned prompt', options: { top_p: 0.5, num_ctx: 4096 }, seed: -3 },
    ];
    const warm = await runCli(['warm', '-', '--output', 'json'], { env, input: lines.map((l) => JSON.stringify(l)).join('\n') });
    expect(JSON.parse(warm.stdout)).toMatchObject({ warmed: 2, failed: 0 });
    const before = fx.fake.modelCalls();
    expect((await runCli(['run', '--seed', '7', '--temperature', '0.8', 'seeded prompt'], { env })).stderr).toContain('cache hit');
    expect((await runCli(['run', '--top-p', '0.5', '--num-ctx', '4096', '--seed', '-3', 'tuned prompt'], { env })).stderr).toContain('cache hit');
    expect(fx.fake.modelCalls()).toBe(before);
    expect((await runCli(['run', '--seed', '8', '--temperature', '0.8', 'seeded prompt'], { env })).stderr).toContain('cache miss');
  });
});

describe('--max-entries and --max-bytes bound the SQLite store', () => {
  it('--max-entries 2 keeps the two most recent answers', async () => {
    const env = freshEnv();
    for (const prompt of ['first of three', 'second of three', 'third of three']) {
      expect((await runCli(['run', '--max-entries', '2', prompt], { env })).code).toBe(0);
    }
    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { entries: number; evictions: number };
    expect(stats).toMatchObject({ entries: 2, evictions: 1 });
    expect((await runCli(['run', 'third of three'], { env })).stderr).toContain('cache hit');
    expect((await runCli(['run', 'first of three'], { env })).stderr).toContain('cache miss');
  });

  it('--max-bytes (with a unit) holds the store under its budget, also from TINYLLM_MAX_BYTES', async () => {
    const env = { ...freshEnv(), TINYLLM_MAX_BYTES: '2KiB' };
    for (let i = 0; i < 6; i++) expect((await runCli(['run', `sized prompt ${i}`], { env })).code).toBe(0);
    const stats = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { entries: number; bytes: number; evictions: number };
    expect(stats.bytes).toBeLessThanOrEqual(2048);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(6);
    // The flag wins over the variable.
    expect((await runCli(['run', '--max-bytes', '1KiB', 'one more sized prompt'], { env })).code).toBe(0);
    const after = JSON.parse((await runCli(['cache-stats', '--json'], { env })).stdout) as { bytes: number; evictions: number };
    expect(after.bytes).toBeLessThanOrEqual(1024);
    expect(after.evictions).toBeGreaterThan(stats.evictions);
  });

  it('an answer larger than --max-bytes is refused by the store, and the CLI says it was not stored', async () => {
    const env = freshEnv();
    const result = await runCli(['run', '--max-bytes', '100', '--output', 'json', 'an answer too large to keep'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ cache: { status: 'miss', stored: false } });
    const text = await runCli(['run', '--max-bytes', '100', 'an answer too large to keep'], { env });
    expect(text.stderr).toContain('was not stored');
    expect(text.stderr).not.toContain('stored for');
  });
});
