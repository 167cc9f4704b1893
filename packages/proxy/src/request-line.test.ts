import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createProxyLogger } from './logger.js';
import { type RequestLine, renderRequestLine, requestLineWriter } from './request-line.js';

const base: RequestLine = {
  method: 'POST',
  path: '/api/generate',
  status: 200,
  cache: 'HIT',
  key: '0123456789abcdef',
  ns: undefined,
  tenant: undefined,
  ms: 0.42,
  bytesIn: 312,
  bytesOut: 2480,
  aborted: undefined,
};

/** What pino itself writes for logger.info(line, 'request'), with the options createProxyLogger gives it. */
function pinoLine(line: RequestLine): string {
  let written = '';
  const logger = pino({ level: 'info', base: { pid: process.pid } }, { write: (text: string) => (written += text) });
  logger.info(line, 'request');
  return written;
}

const withoutTime = (line: string): string => line.replace(/"time":\d+/, '"time":0');

describe('renderRequestLine: the request line, byte for byte as pino writes it', () => {
  const cases: Array<[string, Partial<RequestLine>]> = [
    ['a hit', {}],
    ['a pass-through (no cache status, no key)', { method: 'GET', path: '/api/tags', cache: undefined, key: undefined }],
    ['namespace, tenant and an aborted answer', { ns: 'team-a:dev', tenant: 'team-a', aborted: true, status: 499 }],
    ['a path that needs escaping', { path: '/api/x"y\\z\u0001\u00e9/%20' }],
    ['a long path', { path: `/api/${'a'.repeat(300)}` }],
    ['numbers pino writes as null', { ms: Number.NaN, bytesOut: Number.POSITIVE_INFINITY }],
    ['no method', { method: undefined }],
  ];
  for (const [name, change] of cases) {
    it(name, () => {
      const line = { ...base, ...change };
      expect(withoutTime(renderRequestLine(line, 0, `,"pid":${process.pid}`))).toBe(withoutTime(pinoLine(line)));
    });
  }
});

describe('requestLineWriter', () => {
  it('writes through logger.info for a logger it does not know', () => {
    const seen: string[] = [];
    const logger = pino({ level: 'info' }, { write: (text: string) => seen.push(text) });
    requestLineWriter(logger)(base);
    expect(JSON.parse(seen[0] as string)).toMatchObject({ msg: 'request', method: 'POST', cache: 'HIT', bytesOut: 2480 });
  });

  it('a run of lines whose fields change (and one that is not ASCII) is written byte for byte as pino writes each', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tinyllm-line-')), 'proxy.log');
    const logger = await createProxyLogger({ destination: path });
    const write = requestLineWriter(logger);
    // Each differs from the one before in a field of the remembered middle, or in none.
    const lines: RequestLine[] = [
      base,
      { ...base, ms: 1.5, bytesOut: 10 },
      { ...base, key: 'fedcba9876543210' },
      { ...base, key: 'fedcba9876543210', cache: 'MISS', status: 502 },
      { ...base, ns: 'team-a', tenant: 'team-a' },
      { ...base, ns: 'équipe', tenant: 'team-a' },
      { ...base, path: '/api/chat', aborted: true },
      { ...base, method: 'GET', path: '/api/tags', cache: undefined, key: undefined },
      base,
    ];
    for (const line of lines) write(line);
    logger.flush();
    const written = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    expect(written.map(withoutTime)).toEqual(lines.map((line) => withoutTime(pinoLine(line)).trimEnd()));
  });

  it("renders createProxyLogger's own lines into its destination, and stops when its level is raised", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tinyllm-line-')), 'proxy.log');
    const logger = await createProxyLogger({ destination: path });
    const write = requestLineWriter(logger);
    // Not through pino's walk over the fields: that is the point.
    logger.info = () => {
      throw new Error('logger.info was called');
    };
    write(base);
    logger.flush();
    const written = readFileSync(path, 'utf8');
    expect(withoutTime(written)).toBe(withoutTime(pinoLine(base)));
    logger.level = 'warn';
    write({ ...base, path: '/api/chat' });
    logger.flush();
    expect(readFileSync(path, 'utf8')).toBe(written);
  });
});
