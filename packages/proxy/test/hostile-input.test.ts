/**
 * The hostile-input catalogue (test/hostile/catalogue.ts), one test per case, against a proxy in
 * its own process (the built entry point; API keys on, a memory cache, JSON request logs on
 * stderr) in front of the fake Ollama. Every case checks its status, the cache entries it left
 * (none for anything refused or failed), that nothing leaked and that its peak memory stayed
 * bounded; then the proxy must still answer. The last tests check what the whole catalogue did:
 * the process never crashed, what it kept after a collection is bounded, no built-in prototype
 * was polluted, its log holds no key and no prompt, later requests are served normally, and
 * docs/security.md lists every case.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type FakeOllamaServer, startFakeOllama } from '@tinyllm/fake-ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, waitFor } from './helpers.js';
import { CATALOGUE, CATALOGUE_BODY_LIMIT, CATALOGUE_KEYS, catalogueMarkdown, KEY_A, KEY_ADMIN, KEY_B, PROMPT_MARKER } from './hostile/catalogue.js';
import { exchange } from './hostile/raw-http.js';

const CHILD = fileURLToPath(new URL('./fixtures/proxy-child.mjs', import.meta.url));
const SECURITY_DOC = fileURLToPath(new URL('../../../docs/security.md', import.meta.url));
const MiB = 1024 * 1024;

interface Probe {
  rss: number;
  js: number;
  peakJs: number;
  prototypes: Record<string, string[]>;
  polluted: unknown;
}

let fake: FakeOllamaServer;
let child: ChildProcess;
let url = '';
let stderr = '';
let baselineRss = 0;
let baselineProbe: Probe;
let worstCasePeak = 0;

/**
 * Most a single case may add to the process's memory at its peak: four body limits. The largest
 * body held is one body limit (16 MiB), and the cached path holds a few copies of it for a moment
 * (bytes, text, parsed, key); a 100 MB body read whole, or kept, would be above it.
 */
const CASE_PEAK_BOUND = 4 * CATALOGUE_BODY_LIMIT;

function probe(): Promise<Probe> {
  return new Promise((resolve) => {
    const onMessage = (message: { probe?: Probe }): void => {
      if (message.probe === undefined) return;
      child.off('message', onMessage);
      resolve(message.probe);
    };
    child.on('message', onMessage);
    child.send('probe');
  });
}

const admin = { Authorization: `Bearer ${KEY_ADMIN}` };
async function entries(): Promise<number> {
  const reply = await send(url, '/tinyllm/stats', { headers: admin });
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.text) as { entries: number }).entries;
}

beforeAll(async () => {
  fake = await startFakeOllama();
  const options = {
    memoryCache: true,
    log: true,
    keys: CATALOGUE_KEYS,
    bodyLimitBytes: CATALOGUE_BODY_LIMIT,
    headersTimeoutMs: 1000,
    requestIdleTimeoutMs: 1000,
  };
  child = fork(CHILD, [fake.url, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--expose-gc'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr += text;
  });
  child.on('message', (message: { url?: string }) => {
    if (message.url !== undefined) url = message.url;
  });
  await waitFor(() => url !== '', 20_000, 'the proxy process to listen');
  // Warm up the paths the catalogue takes (first requests load code), then take the baseline.
  for (let i = 0; i < 20; i++) {
    await send(url, '/api/generate', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY_B}` },
      body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: `warm ${i}`, stream: i % 2 === 0 }),
    });
  }
  baselineProbe = await probe();
  baselineRss = baselineProbe.rss;
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.send('close');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await fake?.close();
});

// Bytes that must never be in an answer: the keys, a stack trace, the machine's paths.
const LEAKS: ReadonlyArray<readonly [string, RegExp]> = [
  ['a key', new RegExp([KEY_A, KEY_B, KEY_ADMIN].join('|'))],
  ['a stack frame', /\n\s+at .+:\d+:\d+/],
  ['a file path', /node:internal|file:\/\/|\/(?:work|home|usr|tmp)\//],
];

describe('the hostile-input catalogue', () => {
  it('has at least 60 cases, each with a unique id', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CATALOGUE.map((c) => c.id)).size).toBe(CATALOGUE.length);
  });

  for (const testCase of CATALOGUE) {
    it(`${testCase.id}: ${testCase.what} -> ${testCase.outcome}`, async () => {
      // Each case's peak is V8's heap plus its Buffers (see proxy-child.mjs), measured from what the
      // process holds after a collection: garbage an earlier case left uncollected (V8 lets tens of
      // MiB pile up) is not counted against it, and pages the allocator kept do not hide a new peak.
      const startJs = (await probe()).js;
      const before = await entries();
      let lastEntries = before;
      if (testCase.tokensPerSecond !== undefined) fake.setTokensPerSecond(testCase.tokensPerSecond);
      let result: Awaited<ReturnType<typeof exchange>>;
      try {
        // 'stored': the answer of this case has landed in the cache.
        const stored = (): Promise<void> => waitFor(() => lastEntries > before, 20_000, 'the answer to be stored');
        const poll = setInterval(
          () =>
            void entries().then(
              (n) => (lastEntries = n),
              () => {},
            ),
          50,
        );
        try {
          result = await exchange(url, testCase.steps, testCase.deadlineMs, { stored });
        } finally {
          clearInterval(poll);
        }
      } finally {
        fake.setTokensPerSecond(0);
      }
      const { expect: want } = testCase;
      const text = result.raw.toString('latin1');
      expect(
        result.responses.map((r) => r.status),
        text.slice(0, 400),
      ).toEqual(want.statuses);
      if (want.closed) expect(result.closedByServer, 'the proxy closed the connection').toBe(true);
      for (const [what, pattern] of LEAKS) expect(pattern.test(text), `the answer holds ${what}: ${text.slice(0, 300)}`).toBe(false);
      want.check?.(result);
      if (testCase.settle) await waitFor(() => fake.modelCallsInFlight() === 0, 10_000, 'the fake Ollama to be idle');
      const stores = want.stores ?? 0;
      let after = await entries();
      for (let i = 0; i < 100 && after - before < stores; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await entries();
      }
      expect(after - before, 'cache entries the case left').toBe(stores);
      const peak = (await probe()).peakJs - startJs;
      worstCasePeak = Math.max(worstCasePeak, peak);
      expect(peak, `peak ${Math.round(peak / MiB)} MiB over the case`).toBeLessThan(CASE_PEAK_BOUND);
      // Still alive and answering.
      expect(child.exitCode).toBeNull();
      expect((await send(url, '/tinyllm/health')).status).toBe(200);
    });
  }

  it('the process never crashed, and its memory stayed bounded over the whole catalogue', async () => {
    expect(child.exitCode).toBeNull();
    // Every case stayed under its peak bound (each case checks its own); this one proves they were measured.
    expect(worstCasePeak).toBeGreaterThan(0);
    expect(worstCasePeak).toBeLessThan(CASE_PEAK_BOUND);
    const { rss } = await probe();
    // What the process keeps after a GC: the cache's entries, and what the allocator keeps of the
    // catalogue's discarded megabytes (60-70 MiB seen); a leak of its bodies would pass the bound.
    expect(rss - baselineRss, `now ${Math.round(rss / MiB)} MiB from ${Math.round(baselineRss / MiB)} MiB`).toBeLessThan(96 * MiB);
  });

  it('no built-in prototype of the proxy was touched', async () => {
    const now = await probe();
    expect(now.prototypes).toEqual(baselineProbe.prototypes);
    expect(now.polluted).toBeNull();
  });

  it('later requests are served normally: a miss, then a hit', async () => {
    const body = JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'after the catalogue', stream: false });
    const headers = { Authorization: `Bearer ${KEY_A}`, 'Content-Type': 'application/json' };
    const miss = await send(url, '/api/generate', { method: 'POST', headers, body });
    expect(miss.status).toBe(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    const hit = await send(url, '/api/generate', { method: 'POST', headers, body });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(JSON.parse(hit.text).response).toBe(JSON.parse(miss.text).response);
  });

  it('the log holds one line per request, and never a key or a prompt', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = stderr.split('\n').filter((line) => line !== '');
    // Requests the HTTP parser refused never reach the handler, so fewer lines than cases.
    expect(lines.length).toBeGreaterThan(60);
    for (const line of lines) JSON.parse(line);
    for (const secret of [KEY_A, KEY_B, KEY_ADMIN, PROMPT_MARKER, 'Bearer']) expect(stderr).not.toContain(secret);
  });

  it('docs/security.md holds the catalogue as it is here, row for row', async () => {
    const doc = await readFile(SECURITY_DOC, 'utf8');
    // Cells compared trimmed: the formatter pads Markdown tables.
    const normal = (row: string): string =>
      row
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/^-+$/, '-'))
        .join('|');
    const rows = new Set(doc.split('\n').map(normal));
    const missing = catalogueMarkdown()
      .split('\n')
      .filter((row) => !rows.has(normal(row)));
    // On a change to the catalogue, paste catalogueMarkdown()'s table into the doc (then `pnpm format`).
    expect(missing).toEqual([]);
  });
});
