import { describe, expect, it } from 'vitest';
import { PlanMemo } from './plan.js';

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
