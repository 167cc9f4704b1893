import { createHash } from 'node:crypto';

/** JSON with object keys sorted recursively, so equal objects always serialise the same way. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/** sha256 of a string, as hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A deterministic stream of bytes expanded from a seed string (sha256 in counter mode). */
export class ByteStream {
  private block = Buffer.alloc(0);
  private pos = 0;
  private counter = 0;

  /** Creates a byte stream for `seed`. */
  constructor(private readonly seed: string) {}

  /** The next byte (0–255). */
  next(): number {
    if (this.pos >= this.block.length) {
      this.block = createHash('sha256')
        .update(`${this.seed}#${this.counter++}`)
        .digest();
      this.pos = 0;
    }
    return this.block[this.pos++] ?? 0;
  }

  /** The next unsigned 16-bit integer. */
  next16(): number {
    return this.next() * 256 + this.next();
  }
}
