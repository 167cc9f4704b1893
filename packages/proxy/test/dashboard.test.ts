/// <reference lib="dom" />
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeysConfig } from '../src/index.js';
import { send, useStack } from './helpers.js';

// A real headless Chromium (Debian's package) drives the page. Without it the suite is skipped on a
// developer's machine, and fails under CI=true (.ci/run installs it).
const CHROMIUM = process.env.TINYLLM_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL = `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set TINYLLM_CHROMIUM)`;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(INSTALL);
if (!haveChromium) console.warn(`[dashboard] skipping the browser test: ${INSTALL}`);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The screenshot is a build artifact on every run; the README's copy in docs/ is rewritten only when
// asked (TINYLLM_UPDATE_SCREENSHOT=1) or missing, so a test run leaves the worktree clean.
const DOCS_SCREENSHOT = `${ROOT}docs/dashboard.png`;
const SCREENSHOTS = [
  `${process.env.TINYLLM_ARTIFACTS_DIR ?? `${ROOT}artifacts`}/dashboard.png`,
  ...(process.env.TINYLLM_UPDATE_SCREENSHOT === '1' || !existsSync(DOCS_SCREENSHOT) ? [DOCS_SCREENSHOT] : []),
];
const ADMIN = 'tk-ops-admin-0123456789abc';
const USER = 'tk-team-a-user-0123456789';
const KEYS: KeysConfig = {
  keys: [
    { key: ADMIN, tenant: 'ops', role: 'admin' },
    { key: USER, tenant: 'team-a' },
  ],
};
const MODELS = ['qwen2.5:0.5b', 'llama3.2:latest'];

describe.skipIf(!haveChromium)('the dashboard in a real headless Chromium', () => {
  const stack = useStack({ latencyMs: 30 }, { cache: ollamaResponseCache(new MemoryBackend(), {}), keys: KEYS });
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(() => browser?.close());

  const generate = (model: string, prompt: string) =>
    send(stack.proxy.url, '/api/generate', {
      method: 'POST',
      headers: { Authorization: `Bearer ${USER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model, prompt, stream: false }),
    });
  const stats = async (): Promise<Record<string, unknown> & { byModel: Array<Record<string, unknown>> }> =>
    JSON.parse((await send(stack.proxy.url, '/tinyllm/stats', { headers: { Authorization: `Bearer ${ADMIN}` } })).text);

  it('loads with the key from the fragment, shows what /tinyllm/stats reports, updates after new requests, logs no errors', async () => {
    for (const [i, model] of MODELS.entries()) {
      for (let j = 0; j <= i + 1; j++) await generate(model, `question ${j % 2}`);
    }
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`requestfailed: ${request.url()}`));

    const started = performance.now();
    await page.goto(`${stack.proxy.url}/tinyllm/dashboard?interval=250#key=${ADMIN}`);
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) >= 1);
    const loadMs = performance.now() - started;
    console.info(`[dashboard] loaded and showing data in ${loadMs.toFixed(0)} ms`);

    const expected = await stats();
    const shown = async (id: string): Promise<string | undefined> => page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.value);
    expect(Number(await shown('hits'))).toBe(expected.hits);
    expect(Number(await shown('misses'))).toBe(expected.misses);
    expect(Number(await shown('hit-rate'))).toBeCloseTo(expected.hitRate as number, 10);
    expect(Number(await shown('saved-time'))).toBe(expected.savedMs);
    expect(Number(await shown('saved-tokens'))).toBe(expected.savedTokens);
    expect(Number(await shown('entries'))).toBe(expected.entries);
    expect(Number(await shown('bytes'))).toBe(expected.bytes);
    const modelRows = await page.$$eval('#models tbody tr', (rows) => rows.map((row) => Array.from(row.querySelectorAll('td'), (td) => td.textContent)));
    expect(modelRows.map((row) => row[0])).toEqual(expected.byModel.map((row) => row.model));
    expect(modelRows.map((row) => row[1])).toEqual(expected.byModel.map((row) => String(row.hits)));
    expect(Number(await page.$eval('#chart-status', (el) => (el as unknown as HTMLElement).dataset.bars))).toBeGreaterThan(0);
    expect(Number(await page.$eval('#chart-hit-rate', (el) => (el as unknown as HTMLElement).dataset.points))).toBeGreaterThan(0);
    const recentBefore = await page.$$eval('#recent tbody tr', (rows) => rows.length);
    expect(recentBefore).toBe(5);
    expect(await page.$eval('#recent tbody tr td:nth-child(4)', (td) => td.textContent)).toBe('HIT');
    expect(await page.$eval('th.prompt-col', (th) => (th as HTMLElement).hidden)).toBe(true);

    // New requests: the page follows without a reload.
    await generate(MODELS[0] as string, 'question 0');
    await generate(MODELS[0] as string, 'a new question');
    const after = await stats();
    expect(after.hits).toBe((expected.hits as number) + 1);
    await page.waitForFunction((hits) => document.getElementById('hits')?.dataset.value === String(hits), after.hits);
    await page.waitForFunction(() => document.querySelectorAll('#recent tbody tr').length === 7);
    expect(Number(await shown('misses'))).toBe(after.misses);
    expect(Number(await shown('entries'))).toBe(after.entries);

    for (const path of SCREENSHOTS) {
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: true });
    }
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('without a key the page says to add one, and logs the refused fetches only', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.proxy.url}/tinyllm/dashboard?interval=250`);
    await page.waitForFunction(() => document.getElementById('state')?.className === 'error');
    expect(await page.$eval('#state', (el) => el.textContent)).toContain('#key=');
    await page.close();
  }, 30_000);
});
