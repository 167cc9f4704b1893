import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envFor, runCli, useCliFixture } from './helpers.js';

// Only Ollama's own "model 'x' not found" means "pull it"; any other 404 (another server, a path
// prefix in --ollama-host) asks whether this is Ollama at all. The same for Redis: a port that does
// not speak Redis's protocol is named as such, never with ioredis's "Please report this".
const fx = useCliFixture();

/** A server that answers every request with `status`, `contentType` and `body`. */
async function answering(status: number, contentType: string, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
let plain404: string;
let html404: string;
let json404Model: string;
let json404Other: string;
let html500: string;

beforeAll(async () => {
  const made = await Promise.all([
    answering(404, 'text/plain', 'Not Found'),
    answering(404, 'text/html', '<!DOCTYPE html>\n<html><body><h1>404</h1>\n<p>nothing here</p></body></html>'),
    answering(404, 'application/json', JSON.stringify({ error: "model 'ghost:1b' not found" })),
    answering(404, 'application/json', JSON.stringify({ error: 'route not found' })),
    answering(500, 'text/html', '<html><body>Internal error</body></html>'),
  ]);
  servers.push(...made.map((m) => m.server));
  [plain404, html404, json404Model, json404Other, html500] = made.map((m) => m.url) as [string, string, string, string, string];
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const env = (): Record<string, string> => envFor(fx.fake.url, join(fx.dir, 'foreign.sqlite'));

describe('an HTTP error from something that is not Ollama', () => {
  it('a plain 404: "is this an Ollama server?", never pull advice', async () => {
    const result = await runCli(['run', '--ollama-host', plain404, 'hello'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${plain404} answered HTTP 404 (Not Found): is this an Ollama server? Check --ollama-host`);
    expect(result.stderr).not.toContain('pull');
  });

  it('an HTML 404 page is not dumped into the message', async () => {
    const result = await runCli(['chat', '--ollama-host', html404, 'hello'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${html404} answered HTTP 404 (an HTML page): is this an Ollama server?`);
    expect(result.stderr).not.toContain('<html>');
    expect(result.stderr).not.toContain('pull');
  });

  it('Ollama behind a wrong path prefix (its own plain "404 page not found")', async () => {
    const result = await runCli(['run', '--ollama-host', `${fx.fake.url}/prefix`, 'hello'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('answered HTTP 404 (404 page not found): is this an Ollama server? Check --ollama-host');
    expect(result.stderr).not.toContain('pull');
  });

  it("a JSON 404 that is not Ollama's model error is not a missing model either", async () => {
    const result = await runCli(['run', '--ollama-host', json404Other, 'hello'], { env: env() });
    expect(result.stderr).toContain('answered HTTP 404 (route not found): is this an Ollama server?');
    expect(result.stderr).not.toContain('pull');
  });

  it('an HTML error page with another status: the status, not the page', async () => {
    const result = await runCli(['run', '--ollama-host', html500, 'hello'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('answered HTTP 500 (an HTML page): is this an Ollama server?');
    expect(result.stderr).not.toContain('<body>');
  });

  it("Ollama's own model error still means: pull it (keyed on the text, whoever sends it)", async () => {
    const result = await runCli(['run', '--ollama-host', json404Model, '--model', 'ghost:1b', 'hello'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`model "ghost:1b" not found at ${json404Model}: pull it with \`ollama pull ghost:1b\``);
  });
});

describe('a Redis port that is not Redis', () => {
  it('cache-stats: "is this a Redis server?", without ioredis\'s own words (exit 1)', async () => {
    const port = new URL(fx.fake.url).port;
    const result = await runCli(['cache-stats', '--backend', 'redis', '--redis-port', port]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `127.0.0.1:${port} does not answer in Redis's protocol: is this a Redis server? Check --redis-url / --redis-host / --redis-port`,
    );
    expect(result.stderr).not.toMatch(/Please report this|Protocol error|\[WARN\]/);
  });

  it('run: answers without the cache, with the same words in the warning (exit 0)', async () => {
    const port = new URL(fx.fake.url).port;
    const result = await runCli(['run', '--backend', 'redis', '--redis-port', port, 'redis is http'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).not.toBe('');
    expect(result.stderr).toContain(`warning: 127.0.0.1:${port} does not answer in Redis's protocol: answering without the cache; is this a Redis server?`);
    expect(result.stderr).not.toMatch(/Please report this|Protocol error|\[WARN\]/);
  });
});
