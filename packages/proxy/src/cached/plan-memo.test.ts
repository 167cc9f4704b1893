import { describe, expect, it } from 'vitest';
import { fingerprintOf, MAX_PER_FINGERPRINT, PlanMemo } from './plan-memo.js';

const body = (i: number): Buffer => Buffer.from(JSON.stringify({ model: 'm', prompt: `question ${i}` }));

describe('PlanMemo: what planning learned, remembered per body', () => {
  it('a byte-identical body gets the same plan; another endpoint or namespace its own', () => {
    const memo = new PlanMemo();
    const first = memo.planOf('generate', undefined, body(1));
    expect(first.request).toEqual({ model: 'm', prompt: 'question 1' });
    expect(memo.planOf('generate', undefined, body(1))).toBe(first);
    expect(memo.planOf('generate', 'team', body(1))).not.toBe(first);
    expect(memo.planOf('chat', undefined, body(1))).not.toBe(first);
  });

  it('stays within its bound of entries, and a plan in use all along outlives the ones that are not', () => {
    const memo = new PlanMemo(8);
    const hot = memo.planOf('generate', undefined, body(0));
    for (let i = 1; i <= 100; i++) {
      memo.planOf('generate', undefined, body(i));
      expect(memo.planOf('generate', undefined, body(0))).toBe(hot);
      expect(memo.size).toBeLessThanOrEqual(8);
    }
    // Cold bodies were let go: asking again plans afresh.
    const cold = memo.planOf('generate', undefined, body(1));
    expect(memo.planOf('generate', undefined, body(1))).toBe(cold);
    expect(memo.size).toBe(8);
  });

  it('a plan in use all along also outlives cold ones when large bodies fill the byte bound first', () => {
    const big = (i: number): Buffer => Buffer.from(JSON.stringify({ model: 'm', prompt: `${i} ${'x'.repeat(4000)}` }));
    const memo = new PlanMemo(4096, 10 * 4100);
    const hot = memo.planOf('generate', undefined, big(0));
    for (let i = 1; i <= 200; i++) {
      memo.planOf('generate', undefined, big(i));
      expect(memo.planOf('generate', undefined, big(0))).toBe(hot);
    }
    expect(memo.size).toBeLessThanOrEqual(10);
  });

  it('stays within its bound of bytes', () => {
    const memo = new PlanMemo(1000, 2000);
    for (let i = 0; i < 200; i++) memo.planOf('generate', undefined, body(i));
    expect(memo.size).toBeLessThan(200);
    expect(memo.size * body(100).length).toBeLessThanOrEqual(2000);
  });
});

describe('PlanMemo: bodies that share a fingerprint', () => {
  it('tells them apart by their bytes, and remembers only a few of them', () => {
    // Every body collides, as bodies crafted against the fingerprint would.
    const memo = new PlanMemo(4096, 1024 * 1024, () => 7);
    const bodies = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(body);
    for (const one of bodies) {
      const plan = memo.planOf('generate', undefined, one);
      expect(plan.request).toEqual(JSON.parse(one.toString()));
      // Asked again: the same plan when remembered, an equal one when not.
      expect(memo.planOf('generate', undefined, one).request).toEqual(plan.request);
    }
    expect(memo.size).toBe(MAX_PER_FINGERPRINT);
    expect(memo.planOf('generate', undefined, bodies[0] as Buffer)).toBe(memo.planOf('generate', undefined, bodies[0] as Buffer));
    expect(memo.planOf('generate', undefined, bodies[8] as Buffer)).not.toBe(memo.planOf('generate', undefined, bodies[8] as Buffer));
  });

  it('keeps its own copy of a body, not the buffer it was handed', () => {
    const memo = new PlanMemo();
    const one = Buffer.from('{"model":"m","prompt":"a"}');
    const plan = memo.planOf('generate', undefined, one);
    one.write('b', one.indexOf('"a"') + 1);
    expect(memo.planOf('generate', undefined, one)).not.toBe(plan);
    expect(memo.planOf('generate', undefined, Buffer.from('{"model":"m","prompt":"a"}'))).toBe(plan);
  });
});

describe('fingerprintOf', () => {
  it('reads every byte, whatever the length and the offset of the buffer', () => {
    const seen = new Set<number>();
    const pool = Buffer.from('x'.repeat(64));
    for (let length = 0; length <= 9; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const bytes = pool.subarray(offset, offset + length);
        const print = fingerprintOf(bytes);
        expect(fingerprintOf(Buffer.from(bytes))).toBe(print);
        for (let i = 0; i < length; i++) {
          const changed = Buffer.from(bytes);
          changed[i] = 0x79;
          expect(fingerprintOf(changed)).not.toBe(print);
        }
        seen.add(print);
      }
      expect(print30(fingerprintOf(pool.subarray(0, length)))).toBe(true);
    }
    // The same bytes at another offset: the same fingerprint; another length: another.
    expect(seen.size).toBe(10);
    // What a longer body left behind is not read.
    const short = Buffer.from('{"a":1}');
    const before = fingerprintOf(short);
    fingerprintOf(Buffer.from('{"a":1}zzzzzzzzzzzzzzzzz'));
    expect(fingerprintOf(short)).toBe(before);
  });
});

const print30 = (value: number): boolean => Number.isInteger(value) && value >= 0 && value < 2 ** 30;
