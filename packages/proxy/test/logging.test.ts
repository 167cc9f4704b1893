import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { send, useStack } from './helpers.js';

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

describe('one log line per request, never a body', () => {
  const stack = useStack(
    {},
    {
      logger: pino({ level: 'info' }, sink),
      cachedRoutes: async (request) => {
        request.setCacheResult('HIT', 'team-a:0123456789abcdef0123456789abcdef');
        request.res.writeHead(200, { 'Content-Type': 'application/json' });
        request.res.end('{"response":"the secret answer"}');
      },
    },
  );

  it('logs method, path, status, cache status, key prefix, namespace, duration and bytes', async () => {
    lines.length = 0;
    const prompt = 'my very private prompt';
    await send(stack.proxy.url, '/ns/team-a/api/generate?debug=1', { method: 'POST', body: JSON.stringify({ model: 'm', prompt }) });
    await send(stack.proxy.url, '/api/tags');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(2);
    const [hit, tags] = requests as [Record<string, unknown>, Record<string, unknown>];
    expect(hit).toMatchObject({ level: 30, method: 'POST', path: '/api/generate', status: 200, cache: 'HIT', key: '0123456789abcdef', ns: 'team-a' });
    expect(hit.bytesIn).toBe(JSON.stringify({ model: 'm', prompt }).length);
    expect(hit.bytesOut as number).toBeGreaterThan('{"response":"the secret answer"}'.length);
    expect(typeof hit.ms).toBe('number');
    expect(tags).toMatchObject({ method: 'GET', path: '/api/tags', status: 200 });
    expect(tags.cache).toBeUndefined();
    const all = JSON.stringify(lines);
    expect(all).not.toContain(prompt);
    expect(all).not.toContain('secret answer');
    expect(all).not.toContain('debug=1');
  });
});

describe('at level warn, requests are not logged', () => {
  const quiet: string[] = [];
  const stack = useStack(
    {},
    {
      logger: pino(
        { level: 'warn' },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            quiet.push(chunk.toString());
            done();
          },
        }),
      ),
    },
  );

  it('writes nothing for a served request', async () => {
    expect((await send(stack.proxy.url, '/api/tags')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(quiet).toEqual([]);
    expect(stack.proxy.handler.logRequests).toBe(false);
  });
});
