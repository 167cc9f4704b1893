import { describe, expect, it } from 'vitest';
import { lines, sseData } from './frames.js';

async function* pieces(...parts: Array<string | Buffer>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('splitting streamed answers into events', () => {
  it('lines: whole lines whatever the network chunks, a character split across two chunks intact', async () => {
    const text = Buffer.from('{"a":"é👋"}\n{"b":2}\r\n{"c":3}');
    const split = [text.subarray(0, 7), text.subarray(7, 9), text.subarray(9, 14), text.subarray(14)];
    expect(await all(lines(pieces(...split)))).toEqual(['{"a":"é👋"}', '{"b":2}', '{"c":3}']);
  });

  it('sseData: the data of each event, [DONE] included, comments and other fields skipped', async () => {
    const stream = pieces('data: {"x":1}\n\n: keep-alive\n\nevent: message\nda', 'ta: {"y":2}\n\ndata: [DONE]\n\n');
    expect(await all(sseData(stream))).toEqual(['{"x":1}', '{"y":2}', '[DONE]']);
  });

  it('sseData: multi-line data is joined with a newline', async () => {
    expect(await all(sseData(pieces('data: a\ndata: b\n\n')))).toEqual(['a\nb']);
  });
});
