import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { cacheInfo, createCachedClient } from '@tinyllm/ollama-cached';
import { type RedisServerHandle, requireRedisServer, startRedisServer } from '@tinyllm/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli, useCliFixture } from './helpers.js';

const fixture = useCliFixture({ tokensPerSecond: 20 });

/** A running `tinyllm serve`: its URL (from the line it prints), its output so far, and its exit. */
interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  banner: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `tinyllm serve --port 0 ...args` and waits for the line that names its URL. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no URL within 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /OLLAMA_HOST=(http:\/\/\S+)/.exec(stdout)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve({ child, url, banner: stdout.trim(), stderr: () => stderr, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL; stderr: ${stderr}`));
    });
  });
}

/** Waits until the process's stderr holds text. */
async function waitForText(stderr: () => string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stderr().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" on stderr within ${timeoutMs} ms: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tinyllm serve', () => {
  it('starts, prints one line with its URL and the OLLAMA_HOST clients need, and serves through to Ollama', async () => {
    const sqlitePath = join(fixture.dir, 'serve.sqlite');
    const served = await serve(['--upstream', fixture.fake.url, '--sqlite-path', sqlitePath]);
    try {
      expect(served.banner.split('\n')).toHaveLength(1);
      expect(served.banner).toMatch(
        /^tinyllm proxy on http:\/\/127\.0\.0\.1:\d+ \(Ollama at http:\/\/127\.0\.0\.1:\d+, sqlite cache: .*serve\.sqlite\); point clients at it: OLLAMA_HOST=http:\/\/127\.0\.0\.1:\d+$/,
      );
      const tags = await getJson(`${served.url}/api/tags`);
      expect(tags.status).toBe(200);
      expect(Array.isArray(tags.body.models)).toBe(true);
      const stats = await getJson(`${served.url}/tinyllm/stats`);
      expect(stats.body).toMatchObject({ backend: 'sqlite', location: sqlitePath, exists: true });
      const ready = await getJson(`${served.url}/tinyllm/ready`);
      expect(ready.body).toMatchObject({ ready: true, upstream: { ok: true, url: fixture.fake.url }, cache: { ok: true, backend: 'sqlite' } });
    } finally {
      served.child.kill('SIGTERM');
      expect(await served.exit).toBe(0);
    }
    // One JSON log line per request on stderr, never a body.
    const lines = served
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.path)).toEqual(['/api/tags', '/tinyllm/stats', '/tinyllm/ready']);
  });

  it('takes its upstream from OLLAMA_HOST, in any form Ollama accepts (host:port, no scheme)', async () => {
    const { host } = new URL(fixture.fake.url);
    const served = await serve(['--cache-backend', 'memory'], { OLLAMA_HOST: host });
    try {
      expect(served.banner).toContain(`Ollama at ${fixture.fake.url}`);
      const version = await getJson(`${served.url}/api/version`);
      expect(version.status).toBe(200);
      expect(typeof version.body.version).toBe('string');
    } finally {
      served.child.kill('SIGINT');
      expect(await served.exit).toBe(0);
    }
  });

  it('refuses a non-loopback --host without --allow-unauthenticated, saying why', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--cache-backend', 'memory', '--upstream', fixture.fake.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refusing to listen on 0.0.0.0');
    expect(result.stderr).toContain('--allow-unauthenticated');
    expect(result.stderr).toContain('no API keys');
    expect(result.stdout).toBe('');
  });

  it('refuses to be its own upstream (OLLAMA_HOST already pointing at the proxy)', async () => {
    const result = await runCli(['serve', '--port', '11999', '--cache-backend', 'memory'], { env: { OLLAMA_HOST: 'http://127.0.0.1:11999' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is this proxy itself');
  });

  it.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--log-level', 'loud'], '--log-level'],
    [['--log-format', 'xml'], '--log-format'],
    [['--body-limit-bytes', '0'], '--body-limit-bytes'],
    [['--upstream-timeout-ms', '-1'], '--upstream-timeout-ms'],
    [['--cache-backend', 'disk'], '--cache-backend'],
    [['--upstream', 'ftp://x'], '--upstream'],
    [['--admin-only', 'dashboard'], '--admin-only'],
    [['--max-generations', '-1'], '--max-generations'],
    [['--max-queue', 'lots'], '--max-queue'],
    [['--lease-ttl-ms', '50'], '--lease-ttl-ms'],
  ])('refuses %j (usage error naming the flag)', async (args, flag) => {
    const result = await runCli(['serve', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(flag);
  });

  it('two serve processes on one SQLite file ask Ollama once for one new question; --no-cross-process-flight turns that off', async () => {
    for (const [flags, calls] of [
      [[], 1],
      [['--no-cross-process-flight'], 2],
    ] as const) {
      const sqlitePath = join(fixture.dir, `fleet-${randomUUID()}.sqlite`);
      const servers = await Promise.all([0, 1].map(() => serve(['--upstream', fixture.fake.url, '--sqlite-path', sqlitePath, ...flags])));
      try {
        const before = fixture.fake.modelCalls();
        const body = JSON.stringify({ model: 'llama3.2', prompt: `one question for the fleet ${randomUUID()}`, stream: false });
        const ask = (url: string) =>
          fetch(`${url}/api/generate`, { method: 'POST', body }).then(async (r) => ({ cache: r.headers.get('x-cache'), body: await r.json() }));
        const first = ask((servers[0] as Served).url);
        const deadline = Date.now() + 10_000;
        while (fixture.fake.modelCallsInFlight() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        const [a, b] = await Promise.all([first, ask((servers[1] as Served).url)]);
        expect(b.body).toMatchObject({ response: (a.body as { response: string }).response, done: true });
        expect([a.cache, b.cache]).toEqual(calls === 1 ? ['MISS', 'HIT'] : ['MISS', 'MISS']);
        expect(fixture.fake.modelCalls() - before, flags.join(' ')).toBe(calls);
      } finally {
        for (const server of servers) server.child.kill('SIGTERM');
        await Promise.all(servers.map((server) => server.exit));
      }
    }
  }, 60_000);

  it('the library and the proxy share one SQLite file: a miss through either is a hit through the other', async () => {
    const sqlitePath = join(fixture.dir, `shared-${randomUUID()}.sqlite`);
    const served = await serve(['--upstream', fixture.fake.url, '--sqlite-path', sqlitePath]);
    const client = createCachedClient({ host: fixture.fake.url, backend: 'sqlite', sqlitePath });
    try {
      const fromLibrary = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'cached by the library' });
      await client.flush();
      const viaProxy = await fetch(`${served.url}/api/generate`, {
        method: 'POST',
        body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'cached by the library', stream: false }),
      });
      expect(viaProxy.headers.get('x-cache')).toBe('HIT');
      expect(((await viaProxy.json()) as { response: string }).response).toBe(fromLibrary.response);

      const first = await fetch(`${served.url}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'cached by the proxy' }] }),
      });
      expect(first.headers.get('x-cache')).toBe('MISS');
      await first.text();
      let hit = await client.chat({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'cached by the proxy' }] });
      for (let i = 0; i < 50 && cacheInfo(hit)?.status !== 'hit'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        hit = await client.chat({ model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'cached by the proxy' }] });
      }
      expect(cacheInfo(hit)?.status).toBe('hit');
    } finally {
      await client.close();
      served.child.kill('SIGTERM');
      expect(await served.exit).toBe(0);
    }
  });

  describe('with API keys', () => {
    const USER = 'tk-serve-team-a-0123456789';
    const NEXT = 'tk-serve-team-b-0123456789';
    const withKey = (url: string, key: string | undefined, path = '/api/tags') =>
      fetch(`${url}${path}`, { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } }).then((r) => r.status);

    it('--keys-file lets it listen beyond loopback; requests need a key; SIGHUP reloads the file, keeping the old keys when the new file is bad', async () => {
      const keysFile = join(fixture.dir, 'keys.json');
      writeFileSync(keysFile, JSON.stringify({ keys: [{ key: USER, tenant: 'team-a' }] }));
      const served = await serve(['--host', '0.0.0.0', '--keys-file', keysFile, '--upstream', fixture.fake.url, '--cache-backend', 'memory']);
      try {
        expect(served.banner).toContain('http://0.0.0.0:');
        expect(await withKey(served.url, undefined)).toBe(401);
        expect(await withKey(served.url, USER)).toBe(200);
        expect(await withKey(served.url, USER, '/tinyllm/metrics')).toBe(403);
        expect(await withKey(served.url, undefined, '/tinyllm/health')).toBe(200);
        writeFileSync(keysFile, JSON.stringify({ keys: [{ key: NEXT, tenant: 'team-b' }] }));
        served.child.kill('SIGHUP');
        await waitForText(served.stderr, 'keys reloaded');
        expect(await withKey(served.url, NEXT)).toBe(200);
        expect(await withKey(served.url, USER)).toBe(401);
        writeFileSync(keysFile, '{"keys": [{"key": "short", "tenant": "x"}]}');
        served.child.kill('SIGHUP');
        await waitForText(served.stderr, 'keys not reloaded');
        expect(served.stderr()).toContain('keys[0].key: 5 characters');
        expect(await withKey(served.url, NEXT)).toBe(200);
      } finally {
        served.child.kill('SIGTERM');
        expect(await served.exit).toBe(0);
      }
      for (const key of [USER, NEXT, 'short']) expect(served.stderr()).not.toContain(key);
    });

    it('a bad keys file stops it at start-up, naming the entry and the field (never the key)', async () => {
      const keysFile = join(fixture.dir, 'bad-keys.json');
      writeFileSync(keysFile, JSON.stringify({ keys: [{ key: USER, tenant: 'team:a' }] }));
      const result = await runCli(['serve', '--port', '0', '--keys-file', keysFile, '--cache-backend', 'memory', '--upstream', fixture.fake.url]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('keys[0].tenant');
      expect(result.stderr).not.toContain(USER);
    });
  });

  it('on SIGTERM finishes a streaming answer in flight, then exits 0', async () => {
    const served = await serve(['--upstream', fixture.fake.url, '--cache-backend', 'memory']);
    const target = new URL(served.url);
    const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'a slow answer', options: { num_predict: 12 } });
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: target.hostname, port: target.port, path: '/api/generate', method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          let all = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            // The first token is here and ~600 ms of answer are still to come: stop the server now.
            if (all === '') served.child.kill('SIGTERM');
            all += chunk;
          });
          res.on('end', () => resolve(all));
          res.on('aborted', () => reject(new Error('the answer was cut')));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(13);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ done: true });
    expect(await served.exit).toBe(0);
    expect(served.stderr()).toContain('shutting down');
  });
});

describe.skipIf(!(process.env.REDIS_URL !== undefined || requireRedisServer() !== undefined))('tinyllm serve on Redis', () => {
  let redis: RedisServerHandle | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  it('--cache-backend memory+redis puts a memory tier in front of Redis', async () => {
    const prefix = `tinyllm-serve-test:${randomUUID()}:`;
    const served = await serve([
      '--upstream',
      fixture.fake.url,
      '--cache-backend',
      'memory+redis',
      '--redis-url',
      (redis as RedisServerHandle).url,
      '--redis-key-prefix',
      prefix,
    ]);
    try {
      expect(served.banner).toMatch(/memory\+redis cache: memory \(1000 entries\) in front of 127\.0\.0\.1:\d+/);
      const stats = await getJson(`${served.url}/tinyllm/stats`);
      expect(stats.body).toMatchObject({ exists: true, entries: 0 });
      const ready = await getJson(`${served.url}/tinyllm/ready`);
      expect(ready.body).toMatchObject({ ready: true, cache: { ok: true } });
    } finally {
      served.child.kill('SIGTERM');
      expect(await served.exit).toBe(0);
    }
  });

  it('two serve processes on one Redis: an answer cached through one is a hit on the other', async () => {
    const prefix = `tinyllm-serve-test:${randomUUID()}:`;
    const args = ['--upstream', fixture.fake.url, '--cache-backend', 'redis', '--redis-url', (redis as RedisServerHandle).url, '--redis-key-prefix', prefix];
    const [a, b] = await Promise.all([serve(args), serve(args)]);
    try {
      const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'two proxies, one cache', stream: false });
      const ask = (url: string) => fetch(`${url}/api/generate`, { method: 'POST', body });
      const first = await ask(a.url);
      expect(first.headers.get('x-cache')).toBe('MISS');
      const answer = (await first.json()) as { response: string };
      // The write lands behind the answer: ask the other process until it sees it.
      let second = await ask(b.url);
      for (let i = 0; i < 50 && second.headers.get('x-cache') !== 'HIT'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        second = await ask(b.url);
      }
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(((await second.json()) as { response: string }).response).toBe(answer.response);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect(await a.exit).toBe(0);
      expect(await b.exit).toBe(0);
    }
  });

  it('the library and the proxy share one Redis: an answer cached by either is a hit for the other', async () => {
    const keyPrefix = `tinyllm-serve-test:${randomUUID()}:`;
    const url = (redis as RedisServerHandle).url;
    const served = await serve(['--upstream', fixture.fake.url, '--cache-backend', 'redis', '--redis-url', url, '--redis-key-prefix', keyPrefix]);
    const client = createCachedClient({ host: fixture.fake.url, backend: 'redis', redisUrl: url, keyPrefix });
    try {
      const fromLibrary = await client.generate({ model: 'qwen2.5:0.5b', prompt: 'library first, over redis' });
      await client.flush();
      const viaProxy = await fetch(`${served.url}/api/generate`, {
        method: 'POST',
        body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'library first, over redis', stream: false }),
      });
      expect(viaProxy.headers.get('x-cache')).toBe('HIT');
      expect(((await viaProxy.json()) as { response: string }).response).toBe(fromLibrary.response);
      const first = await fetch(`${served.url}/api/embed`, { method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input: 'proxy first' }) });
      expect(first.headers.get('x-cache')).toBe('MISS');
      const vectors = ((await first.json()) as { embeddings: number[][] }).embeddings;
      let hit = await client.embed({ model: 'nomic-embed-text', input: 'proxy first' });
      for (let i = 0; i < 50 && cacheInfo(hit)?.status !== 'hit'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        hit = await client.embed({ model: 'nomic-embed-text', input: 'proxy first' });
      }
      expect(cacheInfo(hit)?.status).toBe('hit');
      expect(hit.embeddings).toEqual(vectors);
    } finally {
      await client.close();
      served.child.kill('SIGTERM');
      expect(await served.exit).toBe(0);
    }
  });

  it('a Redis that cannot be reached at start-up stops the command with a message saying what to check', async () => {
    const result = await runCli(['serve', '--port', '0', '--upstream', fixture.fake.url, '--cache-backend', 'redis', '--redis-url', 'redis://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at 127.0.0.1:1');
    expect(result.stdout).toBe('');
  });
});
