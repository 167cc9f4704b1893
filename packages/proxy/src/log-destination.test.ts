import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_BYTES, BatchedLogDestination } from './log-destination.js';

const opened: BatchedLogDestination[] = [];
afterEach(() => {
  for (const destination of opened.splice(0)) destination.end();
});

function fileDestination(flushIntervalMs = 60_000): { path: string; destination: BatchedLogDestination; text: () => string } {
  const path = join(mkdtempSync(join(tmpdir(), 'tinyllm-log-')), 'proxy.log');
  const destination = new BatchedLogDestination(path, flushIntervalMs);
  opened.push(destination);
  return { path, destination, text: () => readFileSync(path, 'utf8') };
}

describe('BatchedLogDestination: log lines written in batches', () => {
  it('gathers lines until a batch is full, then writes them in one go, in order', () => {
    const { destination, text } = fileDestination();
    destination.write('{"n":1}\n');
    expect(text()).toBe('');
    const line = `${JSON.stringify({ pad: 'x'.repeat(100) })}\n`;
    let written = '{"n":1}\n';
    while (written.length < BATCH_BYTES) {
      destination.write(line);
      written += line;
    }
    expect(text()).toBe(written);
  });

  it('ASCII lines (writeAscii) and any others (write) in one batch are all written as UTF-8', () => {
    const { destination, text } = fileDestination();
    destination.writeAscii('{"a":1}\n');
    destination.write('{"name":"équipe 🙂"}\n');
    destination.writeAscii('{"b":2}\n');
    destination.flushSync();
    // The next batch is all ASCII again, then one line that is not.
    destination.writeAscii('{"c":3}\n');
    destination.flushSync();
    destination.write('{"d":"ü"}\n');
    destination.flushSync();
    expect(text()).toBe('{"a":1}\n{"name":"équipe 🙂"}\n{"b":2}\n{"c":3}\n{"d":"ü"}\n');
  });

  it('a line waits at most the flush interval', async () => {
    const { destination, text } = fileDestination(20);
    destination.write('{"soon":true}\n');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(text()).toBe('{"soon":true}\n');
  });

  it("pino's flush() and end() write what is gathered; nothing is taken after end()", () => {
    const { destination, text } = fileDestination();
    const logger = pino({ base: null, timestamp: false }, destination);
    logger.info({ cache: 'HIT' }, 'request');
    expect(text()).toBe('');
    logger.flush();
    expect(JSON.parse(text())).toEqual({ level: 30, cache: 'HIT', msg: 'request' });
    destination.write('{"last":true}\n');
    destination.end();
    expect(text().endsWith('{"last":true}\n')).toBe(true);
    expect(destination.write('{"late":true}\n')).toBe(false);
  });

  it('a destination that refuses the write (its reader is gone) never throws into the request that logged', () => {
    const destination = new BatchedLogDestination(987_654, 60_000); // no such file descriptor: EBADF
    opened.push(destination);
    destination.write('{"n":1}\n');
    expect(() => destination.flushSync()).not.toThrow();
    expect(() => destination.write('x'.repeat(BATCH_BYTES))).not.toThrow();
  });
});
