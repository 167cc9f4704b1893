import { InvalidRequestError } from './errors.js';

/**
 * How deep a value may nest to be keyed. Deeper values (nobody's real request; a hostile one can
 * nest 100,000 levels in a 200 kB body) throw InvalidRequestError instead of exhausting the stack.
 */
export const MAX_KEY_DEPTH = 512;

function tooDeep(): never {
  throw new InvalidRequestError('request', `nested more than ${MAX_KEY_DEPTH} levels deep; such a request cannot be keyed`);
}

/** Throws InvalidRequestError when value nests deeper than MAX_KEY_DEPTH (checked before a recursive serialiser such as JSON.stringify sees it). */
export function assertKeyDepth(value: unknown, depth = 0): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_KEY_DEPTH) tooDeep();
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (typeof item === 'object' && item !== null) assertKeyDepth(item, depth + 1);
}

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, `undefined` members dropped,
 * `-0` written as `0`. Two values that differ only in key order serialise to the same text.
 * Hand-written because it sits on every cache lookup: one pass, no intermediate sorted copies.
 */
export function canonicalJson(value: unknown): string {
  return writeCanonical(value) ?? 'null';
}

/** Like canonicalJson, but undefined for values JSON leaves out (undefined, functions, symbols). */
export function writeCanonical(value: unknown): string | undefined {
  return write(value, 0);
}

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // Object.is(-0, 0) is false; -0 + 0 === 0 turns -0 into 0. Non-finite numbers become null, as in JSON.
      return Number.isFinite(value) ? String(value + 0) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return value.toString();
    default:
      break;
  }
  if (value === null) return 'null';
  if (depth >= MAX_KEY_DEPTH) tooDeep();
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i], depth + 1) ?? 'null';
    }
    return `${out}]`;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), depth + 1);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const written = write(record[key], depth + 1);
    if (written === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${written}`;
    first = false;
  }
  return `${out}}`;
}
