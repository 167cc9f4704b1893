import { createEntry, type EntryInfo, listEntries } from '@tinyllm/cache-core';
import { heapGrowthOf } from '@tinyllm/test-utils';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from './memory-backend.js';

const ENTRIES = 100_000;

describe('memory listing', () => {
  it(`lists ${ENTRIES.toLocaleString('en')} entries with flat memory (a snapshot of key references, no copies)`, async () => {
    const backend = new MemoryBackend({ maxSize: ENTRIES });
    const filler = 'x'.repeat(1000);
    for (let i = 0; i < ENTRIES; i++) backend.set(`key-${i}`, createEntry({ response: `${i}${filler}` }, { model: i % 2 ? 'a:latest' : 'b:latest' }));
    const { count, maxGrowthBytes } = await heapGrowthOf(backend.list());
    expect(count).toBe(ENTRIES);
    // The key snapshot is 100,000 references (~0.8 MB); every listed record (~20 MB in all) is dropped as it goes.
    expect(maxGrowthBytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('lists most recently used first, and sorts, filters and limits through listEntries', async () => {
    const backend = new MemoryBackend();
    backend.set('ns:a', createEntry('a', { model: 'x' }));
    backend.set('ns:bb', createEntry('bb', { model: 'y' }));
    backend.set('c', createEntry('ccc', { model: 'x' }));
    backend.get('ns:a');
    const keys = async (source: AsyncIterable<EntryInfo>): Promise<string[]> => {
      const out: string[] = [];
      for await (const info of source) out.push(info.key);
      return out;
    };
    expect(await keys(backend.list())).toEqual(['ns:a', 'c', 'ns:bb']);
    expect(await keys(listEntries(backend, { sort: 'size', descending: true }))).toEqual(['c', 'ns:bb', 'ns:a']);
    expect(await keys(listEntries(backend, { model: 'x:latest', sort: 'key' }))).toEqual(['c', 'ns:a']);
    expect(await keys(listEntries(backend, { namespace: 'ns', sort: 'hits', descending: true, limit: 1 }))).toEqual(['ns:a']);
    expect(await keys(listEntries(backend, { minBytes: 2 }))).toEqual(['c', 'ns:bb']);
  });
});
