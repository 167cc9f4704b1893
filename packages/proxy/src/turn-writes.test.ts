import { describe, expect, it } from 'vitest';
import { MAX_TURN_WRITES, type TurnWrite, TurnWrites } from './turn-writes.js';

const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function recorder(log: number[]): (n: number) => TurnWrite {
  return (n) => ({ writeTurn: () => log.push(n) });
}

describe('TurnWrites: answers written together at the end of the turn', () => {
  it('holds answers until the turn ends, then writes them in the order they came', async () => {
    const log: number[] = [];
    const writes = new TurnWrites();
    const write = recorder(log);
    writes.add(write(1));
    writes.add(write(2));
    await Promise.resolve();
    expect(log).toEqual([]);
    await turnEnd();
    expect(log).toEqual([1, 2]);
  });

  it(`writes at once when ${MAX_TURN_WRITES} are waiting, and the turn's end writes the rest`, async () => {
    const log: number[] = [];
    const writes = new TurnWrites();
    const write = recorder(log);
    for (let n = 1; n < MAX_TURN_WRITES; n++) writes.add(write(n));
    expect(log).toEqual([]);
    writes.add(write(MAX_TURN_WRITES));
    expect(log).toHaveLength(MAX_TURN_WRITES);
    writes.add(write(MAX_TURN_WRITES + 1));
    expect(log).toHaveLength(MAX_TURN_WRITES);
    await turnEnd();
    expect(log).toEqual(Array.from({ length: MAX_TURN_WRITES + 1 }, (_, i) => i + 1));
  });

  it('an answer added while the batch is written waits for the next turn, not forever', async () => {
    const log: number[] = [];
    const writes = new TurnWrites();
    writes.add({
      writeTurn: () => {
        log.push(1);
        writes.add({ writeTurn: () => log.push(2) });
      },
    });
    await turnEnd();
    expect(log).toEqual([1]);
    await turnEnd();
    expect(log).toEqual([1, 2]);
  });
});
