import { describe, expect, it } from 'vitest';
import {
  createEntry,
  decodeEntry,
  encodeEntry,
  ImportFormatError,
  importEntries,
  ListingUnsupportedError,
  listEntries,
  ReferenceBackend,
} from '../src/index.js';
import { decodeEntryHead } from '../src/internal.js';
import { exportRecordOf } from '../src/tools/export-entries.js';

describe('entry metadata in the codec', () => {
  it('records the endpoint in the model slot, and entries written before endpoints still decode', () => {
    const entry = createEntry({ response: 'hi' }, { model: 'm:latest', endpoint: 'chat', now: 1000 });
    const encoded = encodeEntry(entry);
    expect(encoded.startsWith('tlc1:[1000,null,0,1000,')).toBe(true);
    expect(decodeEntry(encoded)).toEqual(entry);
    const old = 'tlc1:[1000,null,0,1000,15,"m:latest",{"response":"hi"}]';
    expect(decodeEntry(old)).toEqual({
      value: { response: 'hi' },
      createdAt: 1000,
      expiresAt: null,
      accessCount: 0,
      lastAccess: 1000,
      sizeBytes: 15,
      model: 'm:latest',
    });
  });

  it('decodeEntryHead reads the metadata from the first bytes only', () => {
    const encoded = encodeEntry(createEntry('x'.repeat(5000), { model: 'a"b', endpoint: 'generate', now: 5, ttl: 1 }));
    expect(decodeEntryHead(encoded.slice(0, 100))).toEqual({
      createdAt: 5,
      expiresAt: 1005,
      accessCount: 0,
      lastAccess: 5,
      sizeBytes: 5000,
      model: 'a"b',
      endpoint: 'generate',
    });
    expect(decodeEntryHead('tlc1:[5,null,0,5,1,"cut')).toBeUndefined();
    expect(decodeEntryHead('tlc1:[5,null,0,5,1,null,1]')).toMatchObject({ model: null, endpoint: null });
  });
});

describe('entry tools', () => {
  it('a backend that cannot list is refused with a typed error', async () => {
    const error = await listEntries(new ReferenceBackend())
      .next()
      .catch((e: unknown) => e);
    expect(ListingUnsupportedError.isInstance(error)).toBe(true);
    expect((error as ListingUnsupportedError).code).toBe('TINYLLM_LISTING_UNSUPPORTED');
  });

  it('an import without a header, of another format or a newer version is refused before anything changes', async () => {
    const backend = new ReferenceBackend();
    backend.set('keep', createEntry('kept'));
    for (const text of ['', '{"key":"a","value":1,"createdAt":1,"ttlSeconds":null}\n', '{"format":"tinyllm-cache-export","version":2}\n']) {
      const error = await importEntries(backend, [text], { mode: 'replace' }).catch((e: unknown) => e);
      expect(ImportFormatError.isInstance(error)).toBe(true);
    }
    expect((await backend.get('keep'))?.value).toBe('kept');
  });

  it('validates every record: expired ones are counted, bad ones reported by line', async () => {
    const backend = new ReferenceBackend();
    const file = [
      '{"format":"tinyllm-cache-export","version":1,"exportedAt":0}',
      '{"key":"ok","value":{"response":"r"},"createdAt":1,"ttlSeconds":60,"model":"m","endpoint":"generate"}',
      '{"key":"gone","value":1,"createdAt":1,"ttlSeconds":-5}',
      '[1,2]',
      '{"key":"","value":1,"createdAt":1,"ttlSeconds":null}',
      '{"key":"k","value":1,"createdAt":"yesterday","ttlSeconds":null}',
      '{"key":"k","value":1,"createdAt":1,"ttlSeconds":"soon"}',
      '{"key":"k","value":1,"createdAt":1,"ttlSeconds":null,"model":7}',
      '',
    ].join('\r\n');
    const report = await importEntries(backend, [file]);
    expect(report.imported).toBe(1);
    expect(report.expired).toBe(1);
    expect(report.problems.map((p) => p.line)).toEqual([4, 5, 6, 7, 8]);
    const entry = await backend.get('ok');
    expect(entry).toMatchObject({ value: { response: 'r' }, model: 'm', endpoint: 'generate' });
    expect((entry?.expiresAt ?? 0) - Date.now()).toBeGreaterThan(55_000);
  });
});

describe('entry tools and stale-if-error', () => {
  it('an entry with an endpoint and a stale window round-trips through the codec, and its head still reads', () => {
    const entry = createEntry({ response: 'hi' }, { model: 'm', endpoint: 'chat', now: 1000, ttl: 10, staleIfErrorTtl: 30 });
    expect(entry.staleUntil).toBe(41_000);
    const encoded = encodeEntry(entry);
    expect(decodeEntry(encoded)).toEqual(entry);
    expect(decodeEntryHead(encoded)).toMatchObject({ expiresAt: 11_000, model: 'm', endpoint: 'chat' });
  });

  it('export then import keeps the stale window: the same seconds past the new expiry', async () => {
    const now = Date.now();
    const entry = createEntry({ response: 'r' }, { ttl: 60, staleIfErrorTtl: 30, now });
    const record = exportRecordOf('k', entry, now);
    expect(record.staleSeconds).toBe(30);
    const backend = new ReferenceBackend();
    const file = [JSON.stringify({ format: 'tinyllm-cache-export', version: 1, exportedAt: now }), JSON.stringify(record), ''].join('\n');
    expect((await importEntries(backend, [file])).imported).toBe(1);
    const imported = await backend.get('k');
    expect((imported?.staleUntil ?? 0) - (imported?.expiresAt ?? 0)).toBe(30_000);
    const bad = [JSON.stringify({ format: 'tinyllm-cache-export', version: 1, exportedAt: now }), JSON.stringify({ ...record, staleSeconds: -1 }), ''].join(
      '\n',
    );
    expect((await importEntries(new ReferenceBackend(), [bad])).problems).toHaveLength(1);
  });
});

describe('import limits', () => {
  it('a line longer than the limit is refused instead of held in memory', async () => {
    const { splitLines } = await import('../src/index.js');
    const chunks = async function* (): AsyncGenerator<string> {
      for (let i = 0; i < 10; i++) yield 'x'.repeat(100);
    };
    const read = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const line of splitLines(chunks(), 500)) out.push(line);
      return out;
    };
    const error = await read().catch((e: unknown) => e);
    expect(ImportFormatError.isInstance(error)).toBe(true);
  });
});
