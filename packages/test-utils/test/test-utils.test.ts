import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTempDir, recordingLogger, sleep, test, waitFor } from '../src/index.js';

describe('recordingLogger', () => {
  it('keeps every call with its level, context and message', () => {
    const logger = recordingLogger();
    logger.debug({ a: 1 }, 'first');
    logger.warn({}, 'second');
    logger.warn({}, 'third');
    expect(logger.records).toEqual([
      { level: 'debug', context: { a: 1 }, message: 'first' },
      { level: 'warn', context: {}, message: 'second' },
      { level: 'warn', context: {}, message: 'third' },
    ]);
    expect(logger.messages('warn')).toEqual(['second', 'third']);
    expect(logger.messages('error')).toEqual([]);
  });
});

describe('waitFor', () => {
  it('resolves once the condition holds', async () => {
    let ready = false;
    setTimeout(() => {
      ready = true;
    }, 30);
    await waitFor(() => ready, 2000);
    expect(ready).toBe(true);
  });
  it('rejects after its bound, naming it', async () => {
    await expect(waitFor(async () => false, 60)).rejects.toThrow('within 60 ms');
  });
  it('sleep waits at least the time asked', async () => {
    const started = performance.now();
    await sleep(25);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
  });
});

let seenDir: string | undefined;
describe('fixtures', () => {
  test('tempDir is a fresh writable directory', ({ tempDir }) => {
    writeFileSync(join(tempDir, 'x'), 'y');
    expect(existsSync(join(tempDir, 'x'))).toBe(true);
    seenDir = tempDir;
  });
  test('...removed after the test that used it', () => {
    expect(seenDir).toBeDefined();
    expect(existsSync(seenDir as string)).toBe(false);
  });
  test('logger is a fresh recording logger', ({ logger }) => {
    expect(logger.records).toEqual([]);
    logger.error({}, 'x');
    expect(logger.messages('error')).toEqual(['x']);
  });
  it('createTempDir gives a directory its caller removes', () => {
    const dir = createTempDir('tinyllm-utils-');
    expect(existsSync(dir.path)).toBe(true);
    dir.remove();
    dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });
});
