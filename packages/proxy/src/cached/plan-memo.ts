/**
 * What planning learned about a body, remembered for a byte-identical body: most hits repeat a
 * request exactly, and a remembered plan skips parsing and key derivation.
 *
 * Bodies are found by a fingerprint (a 30-bit hash of their bytes) and confirmed by comparing the
 * bytes. Keying a Map by the body as a string cost ~0.6 us a lookup for a 300-byte body, most of it
 * V8 hashing the string; this costs ~0.15 us. Bodies crafted to share a
 * fingerprint cost at most MAX_PER_FINGERPRINT comparisons a lookup: the extra ones are planned
 * every time instead of remembered.
 */
import type { CachedEndpoint } from '@tinyllm/ollama-cached/engine';
import { type BodyPlan, planBody } from './plan.js';

/** Bodies larger than this (images) are planned every time rather than remembered. */
export const MAX_REMEMBERED_BODY = 64 * 1024;
/** Bodies remembered under one fingerprint at most. */
export const MAX_PER_FINGERPRINT = 4;

// The body is copied here to be read four bytes at a time (a Buffer from a socket read starts at
// any offset, and an Int32Array view needs one that is a multiple of 4).
const scratch = new Uint8Array(MAX_REMEMBERED_BODY + 4);
const words = new Int32Array(scratch.buffer);

/**
 * A 30-bit hash of a body's bytes (a V8 small integer, so a cheap Map key): FNV-1a's step over
 * 32-bit words, in two lanes that the CPU runs side by side, then mixed. ~75 ns for 300 bytes,
 * half of a byte-at-a-time loop. Bodies up to MAX_REMEMBERED_BODY bytes.
 */
export function fingerprintOf(body: Buffer): number {
  const length = body.length;
  scratch.set(body);
  scratch.fill(0, length, length + 4);
  const count = (length + 3) >> 2;
  let even = length ^ 0x811c9dc5;
  let odd = 0x9e3779b9;
  let at = 0;
  for (; at + 1 < count; at += 2) {
    even = Math.imul(even ^ (words[at] as number), 0x01000193);
    odd = Math.imul(odd ^ (words[at + 1] as number), 0x01000193);
  }
  if (at < count) even = Math.imul(even ^ (words[at] as number), 0x01000193);
  return Math.imul(even ^ (odd >>> 15), 0x2c1b3c6d) & 0x3fffffff;
}

/** One remembered body and its plan. */
interface Remembered {
  readonly endpoint: CachedEndpoint;
  readonly namespace: string | undefined;
  /** A copy of the body (the request's may be a slice of a larger socket read, which it would keep alive). */
  readonly body: Buffer;
  readonly fingerprint: number;
  readonly plan: BodyPlan;
  /** The memo's count of lookups when it was last moved to the recent end. */
  usedAt: number;
}

/**
 * Remembers BodyPlans by body bytes (and endpoint and namespace), least recently used out, bounded
 * by entries and by the bytes of the bodies it keeps.
 */
export class PlanMemo {
  readonly #byFingerprint = new Map<number, Remembered[]>();
  // Every remembered body, least recently used first (a Set keeps insertion order).
  readonly #order = new Set<Remembered>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #fingerprintOf: (body: Buffer) => number;
  #bytes = 0;
  // Lookups so far: the clock of usedAt.
  #uses = 0;

  /** maxEntries and maxBytes bound what it keeps; fingerprint is replaceable for tests (one that collides). */
  constructor(maxEntries = 4096, maxBytes = 16 * 1024 * 1024, fingerprint: (body: Buffer) => number = fingerprintOf) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#fingerprintOf = fingerprint;
  }

  /** The plan of a body, from memory or made now. */
  planOf(endpoint: CachedEndpoint, namespace: string | undefined, body: Buffer): BodyPlan {
    if (body.length > MAX_REMEMBERED_BODY) return planBody(endpoint, body);
    const fingerprint = this.#fingerprintOf(body);
    const alike = this.#byFingerprint.get(fingerprint);
    if (alike !== undefined) {
      for (const known of alike) {
        if (known.endpoint !== endpoint || known.namespace !== namespace || !known.body.equals(body)) continue;
        // Most recently used last. A plan moved within the last quarter of the memo's size worth of
        // lookups is left where it is: moving it on every hit cost more than the rest of the lookup,
        // and it cannot reach the front that soon (a lookup adds at most one body; by size, not
        // maxEntries, so large bodies that fill the byte bound first are covered too). So the order is nearly LRU.
        if (this.#uses - known.usedAt > this.#order.size >> 2) {
          this.#order.delete(known);
          this.#order.add(known);
          known.usedAt = this.#uses;
        }
        this.#uses++;
        return known.plan;
      }
    }
    const plan = planBody(endpoint, body);
    if (alike !== undefined && alike.length >= MAX_PER_FINGERPRINT) return plan;
    const copy = Buffer.allocUnsafeSlow(body.length);
    body.copy(copy);
    const remembered: Remembered = { endpoint, namespace, body: copy, fingerprint, plan, usedAt: this.#uses++ };
    if (alike === undefined) this.#byFingerprint.set(fingerprint, [remembered]);
    else alike.push(remembered);
    this.#order.add(remembered);
    this.#bytes += copy.length;
    while (this.#order.size > this.#maxEntries || this.#bytes > this.#maxBytes) this.#forget(this.#order.values().next().value as Remembered);
    return plan;
  }

  /** Bodies remembered. */
  get size(): number {
    return this.#order.size;
  }

  #forget(remembered: Remembered): void {
    this.#order.delete(remembered);
    this.#bytes -= remembered.body.length;
    const alike = this.#byFingerprint.get(remembered.fingerprint) as Remembered[];
    if (alike.length === 1) this.#byFingerprint.delete(remembered.fingerprint);
    else alike.splice(alike.indexOf(remembered), 1);
  }
}
