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
  return write(value);
}

function write(value: unknown): string | undefined {
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
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const written = write(record[key]);
    if (written === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${written}`;
    first = false;
  }
  return `${out}}`;
}
