/**
 * Answers written together at the end of an event-loop turn. Under load one turn reads many
 * requests (one per ready socket). An answer written the moment it is ready wakes the client's
 * reader for that answer alone: the kernel's wake-up is paid inside the write, and a client woken
 * once per answer sends its next request alone, so proxy and client settle into a ping-pong of one
 * request per wake-up. Written together after the turn's I/O (setImmediate), the turn's answers
 * cost one wake-up. Measured on a cached hit under 50 connections: the client woke for 0.76 of
 * every answer written at once and for 0.02 written this way, and the proxy spent ~20% less CPU
 * per hit. An answer waits at most for the rest of its turn, and at most MAX_TURN_WRITES wait at
 * once: the one that makes that many writes the batch at once. Only hits wait: a miss's store write
 * waits for the next turn too (cache-core), and a miss's answer must not queue behind it.
 */

/** An answer waiting for the end of the turn. */
export interface TurnWrite {
  /** Writes the answer; never throws. */
  writeTurn(): void;
}

/** The most answers held back in one turn before they are written. */
export const MAX_TURN_WRITES = 16;

/** The answers waiting for the end of the current turn. */
export class TurnWrites {
  #pending: TurnWrite[] = [];
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Holds `write` until the end of this turn (or until MAX_TURN_WRITES are waiting). */
  add(write: TurnWrite): void {
    if (this.#pending.push(write) >= MAX_TURN_WRITES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Writes every answer waiting, in the order they came. */
  flush(): void {
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    for (let i = 0; i < pending.length; i++) (pending[i] as TurnWrite).writeTurn();
  }
}
