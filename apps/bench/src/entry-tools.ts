/**
 * `pnpm --filter @tinyllm/bench entry-tools`: figures for the entry tools (printed, never asserted):
 * listing speed per backend over 100,000 entries of ~1 KiB (memory, SQLite, Redis standalone), the
 * live heap a listing holds, export size and speed, import speed, and the dashboard's load time in
 * headless Chromium (median of 5 page loads, to the first data shown).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CacheBackend, createEntry, encodeEntry, exportEntries, importEntries } from '@tinyllm/cache-core';
import { MemoryBackend } from '@tinyllm/cache-memory';
import { RedisBackend } from '@tinyllm/cache-redis';
import { SqliteBackend } from '@tinyllm/cache-sqlite';
import { startFakeOllama } from '@tinyllm/fake-ollama';
import { ollamaResponseCache } from '@tinyllm/ollama-cached';
import { startProxy } from '@tinyllm/proxy';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { startPrivateRedis } from './redis-server.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const FILLER = 'x'.repeat(1000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const entryOf = (i: number) => createEntry({ response: `${i}${FILLER}`, done: true }, { model: i % 2 ? 'a:latest' : 'b:latest', endpoint: 'generate' });

async function timeListing(name: string, backend: CacheBackend): Promise<string> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let count = 0;
  const started = performance.now();
  for await (const _ of (backend.list as () => AsyncIterable<unknown>).call(backend)) {
    if (++count % 20_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return `| ${name} | ${count.toLocaleString('en')} | ${Math.round(count / seconds).toLocaleString('en')} | ${(peak / 1024 / 1024).toFixed(1)} MiB |`;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tinyllm-bench-entries-'));
  // memory
  const memory = new MemoryBackend({ maxSize: ENTRIES });
  for (let i = 0; i < ENTRIES; i++) memory.set(`key-${i}`, entryOf(i));
  rows.push(await timeListing('memory', memory));
  // SQLite (bulk insert in one transaction, as the tests do)
  const path = join(dir, 'cache.sqlite');
  const sqlite = new SqliteBackend({ path, maxEntries: ENTRIES * 2, maxBytes: 1024 ** 3 });
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO entries (namespace, key, value, created_at, expires_at, last_access, access_count, access_seq, size_bytes, endpoint, model, value_bytes)
     VALUES ('default', ?, ?, ?, NULL, ?, 0, ?, ?, 'generate', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < ENTRIES; i++) {
      const entry = entryOf(i);
      const encoded = encodeEntry(entry);
      insert.run(`key-${i}`, encoded, entry.createdAt, entry.lastAccess, i + 1, encoded.length, entry.model, entry.sizeBytes);
    }
  })();
  db.close();
  rows.push(await timeListing('SQLite', sqlite));
  // Redis
  const redisServer = await startPrivateRedis();
  const redis = new RedisBackend({ url: redisServer.url });
  const raw = new Redis(redisServer.url);
  for (let start = 0; start < ENTRIES; start += 10_000) {
    const pipeline = raw.pipeline();
    for (let i = start; i < Math.min(ENTRIES, start + 10_000); i++) pipeline.set(`${redis.keyPrefix}key-${i}`, encodeEntry(entryOf(i)));
    await pipeline.exec();
  }
  await raw.quit();
  rows.push(await timeListing('Redis (standalone, SCAN)', redis));

  // export (memory) and import (into SQLite and Redis)
  let exportBytes = 0;
  const lines: string[] = [];
  let started = performance.now();
  for await (const line of exportEntries(memory)) {
    exportBytes += Buffer.byteLength(line) + 1;
    lines.push(line);
  }
  const exportSeconds = (performance.now() - started) / 1000;
  const imports: string[] = [];
  for (const [name, target] of [
    ['SQLite', new SqliteBackend({ path: join(dir, 'import.sqlite'), maxEntries: ENTRIES * 2, maxBytes: 1024 ** 3 })],
    ['Redis', new RedisBackend({ url: redisServer.url, keyPrefix: 'imported:' })],
  ] as const) {
    started = performance.now();
    const report = await importEntries(target, lines);
    imports.push(`${name} ${Math.round(report.imported / ((performance.now() - started) / 1000)).toLocaleString('en')} entries/s`);
    await target.close();
  }
  await redis.close();
  await redisServer.stop();
  sqlite.close();

  // dashboard load time
  const fake = await startFakeOllama({});
  const proxy = await startProxy({ port: 0, upstream: fake.url, cache: ollamaResponseCache(new MemoryBackend(), {}), processMetrics: false });
  for (let i = 0; i < 20; i++) {
    await fetch(`${proxy.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: `q${i % 7}`, stream: false }) });
  }
  const browser = await chromium.launch({
    executablePath: process.env.TINYLLM_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(`${proxy.url}/tinyllm/dashboard`);
    await page.waitForFunction(
      () => Number((globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.updates ?? 0) >= 1,
    );
    loads.push(performance.now() - t0);
    await page.close();
  }
  await browser.close();
  await proxy.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
  loads.sort((a, b) => a - b);

  console.log(`\nEntry tools, ${ENTRIES.toLocaleString('en')} entries of ~1 KiB each (Node ${process.version})\n`);
  console.log('| backend | listed | entries/s | peak live heap during the listing |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
  console.log(
    `\nexport (memory): ${(exportBytes / 1024 / 1024).toFixed(1)} MiB, ${Math.round(exportBytes / ENTRIES)} B per entry, ${Math.round(ENTRIES / exportSeconds).toLocaleString('en')} entries/s`,
  );
  console.log(`import: ${imports.join(', ')}`);
  console.log(
    `dashboard: page load to first data shown, median of 5 in headless Chromium: ${(loads[2] as number).toFixed(0)} ms (min ${(loads[0] as number).toFixed(0)}, max ${(loads[4] as number).toFixed(0)})`,
  );
}

await main();
