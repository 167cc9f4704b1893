import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// Invalid UTF-8 used to be replaced with U+FFFD, so two different byte strings asked (and were
// cached as) the same question. It is refused, naming the byte and where it is.
const fx = useCliFixture();
const env = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, 'encoding.sqlite'));

describe('input that is not UTF-8 is refused (exit 2)', () => {
  it('run -: names the byte and its offset, and asks nothing', async () => {
    const before = fx.fake.modelCalls();
    const result = await runCli(['run', '-'], { env: env(), input: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21]) }); // "caf\xe9!" in Latin-1
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the prompt on stdin is not valid UTF-8 (byte 0xe9 at offset 3)');
    expect(result.stderr).toContain('iconv');
    expect(fx.fake.modelCalls()).toBe(before);
  });

  it('two prompts that differ only in their invalid bytes no longer share an answer', async () => {
    for (const bad of [0xff, 0xfe]) {
      const result = await runCli(['run', '-'], { env: env(), input: Buffer.from([0x68, 0x69, bad]) });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`byte 0x${bad.toString(16)} at offset 2`);
    }
  });

  it('a cut-off sequence, a surrogate and an overlong form are invalid too; real UTF-8 passes', async () => {
    const cases: Array<[number[], number]> = [
      [[0x61, 0xe2, 0x82], 1], // "€" without its last byte
      [[0x61, 0x62, 0xed, 0xa0, 0x80], 2], // U+D800
      [[0xc0, 0xaf], 0], // overlong "/"
    ];
    for (const [bytes, offset] of cases) {
      const result = await runCli(['chat', '-'], { env: env(), input: Buffer.from(bytes) });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`the message on stdin is not valid UTF-8 (byte 0x${(bytes[offset] as number).toString(16)} at offset ${offset})`);
    }
    const good = await runCli(['run', '-'], { env: env(), input: Buffer.from('caf\u00e9 \u20ac \u{1F600}', 'utf8') });
    expect(good.code).toBe(0);
    expect(fx.fake.requests.at(-1)?.body).toMatchObject({ prompt: 'caf\u00e9 \u20ac \u{1F600}' });
  });

  it('warm: a file with invalid UTF-8 names the file', async () => {
    const file = join(fx.dir, 'latin1.txt');
    writeFileSync(file, Buffer.concat([Buffer.from('ok line\n'), Buffer.from([0x6e, 0xe4, 0x0a])]));
    const result = await runCli(['warm', file], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the requests file ${file} is not valid UTF-8 (byte 0xe4 at offset 9)`);
  });
});
