import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerKey, InvalidKeysFileError, KeyRing } from '../src/index.js';

const KEY = 'tk-team-a-0123456789abcdef';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The message of the error KeyRing.fromConfig throws for config (fails the test when it does not throw). */
function refusal(config: unknown): string {
  try {
    KeyRing.fromConfig(config, 'keys.json');
  } catch (error) {
    expect(InvalidKeysFileError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the keys file', () => {
  it('maps each key to its tenant and role; a key given as its SHA-256 works the same', () => {
    const ring = KeyRing.fromConfig({
      keys: [
        { key: KEY, tenant: 'team-a' },
        { sha256: sha256('tk-ops-admin-0123456789abcdef'), tenant: 'ops', role: 'admin', comment: 'prometheus' },
      ],
    });
    expect(ring.principalOf(KEY)).toEqual({ tenant: 'team-a', role: 'user' });
    expect(ring.principalOf('tk-ops-admin-0123456789abcdef')).toEqual({ tenant: 'ops', role: 'admin' });
    expect(ring.principalOf(`${KEY}x`)).toBeUndefined();
    expect(ring.principalOf(KEY.slice(0, -1))).toBeUndefined();
    expect(ring.principalOf('')).toBeUndefined();
    expect(ring.tenants).toEqual(['ops', 'team-a']);
    expect(ring.size).toBe(2);
  });

  it('keeps only digests: the ring holds no key text', () => {
    const ring = KeyRing.fromConfig({ keys: [{ key: KEY, tenant: 'team-a' }] });
    // Everything reachable from the ring, serialised, never contains the key.
    const seen = new Set<unknown>();
    const dump = (value: unknown): string => {
      if (typeof value !== 'object' || value === null || seen.has(value)) return String(value);
      seen.add(value);
      if (value instanceof Map) return [...value.entries()].map(([k, v]) => `${dump(k)}=${dump(v)}`).join(',');
      if (Buffer.isBuffer(value)) return value.toString('latin1');
      return Object.values(value).map(dump).join(',');
    };
    expect(dump(ring)).not.toContain(KEY);
  });

  it.each([
    ['not an object', [], /the file: expected a JSON object/],
    ['no keys', { keys: [] }, /keys: expected a non-empty array/],
    ['an unknown top-level field', { keys: [{ key: KEY, tenant: 'a' }], extra: 1 }, /extra: unknown field/],
    ['an unknown key field', { keys: [{ key: KEY, tenant: 'a', rol: 'admin' }] }, /keys\[0\]\.rol: unknown field/],
    ['both key and sha256', { keys: [{ key: KEY, sha256: sha256(KEY), tenant: 'a' }] }, /keys\[0\]: give exactly one of "key" and "sha256"/],
    ['neither key nor sha256', { keys: [{ tenant: 'a' }] }, /keys\[0\]: give exactly one/],
    ['a short key', { keys: [{ key: 'short-key', tenant: 'a' }] }, /keys\[0\]\.key: 9 characters \(expected 16 to 512\)/],
    ['a key with a space', { keys: [{ key: 'tk team a 0123456789', tenant: 'a' }] }, /keys\[0\]\.key: only visible ASCII/],
    ['a bad sha256', { keys: [{ sha256: 'abc', tenant: 'a' }] }, /keys\[0\]\.sha256: expected 64 hex digits/],
    ['a tenant with the separator', { keys: [{ key: KEY, tenant: 'team:a' }] }, /keys\[0\]\.tenant: expected 1-64 letters/],
    ['a tenant with a slash', { keys: [{ key: KEY, tenant: '../b' }] }, /keys\[0\]\.tenant/],
    ['a bad role', { keys: [{ key: KEY, tenant: 'a', role: 'root' }] }, /keys\[0\]\.role: expected "user" or "admin"/],
    [
      'the same key twice',
      {
        keys: [
          { key: KEY, tenant: 'a' },
          { sha256: sha256(KEY), tenant: 'b' },
        ],
      },
      /keys\[1\]: the same key as keys\[0\]/,
    ],
    [
      'a rate limit for an unknown tenant',
      { keys: [{ key: KEY, tenant: 'a' }], tenants: { b: { rateLimit: { requestsPerMinute: 5 } } } },
      /tenants\.b: no key/,
    ],
    [
      'a bad rate',
      { keys: [{ key: KEY, tenant: 'a' }], tenants: { a: { rateLimit: { requestsPerMinute: 0.5 } } } },
      /requestsPerMinute: expected a whole number/,
    ],
  ])('refuses %s, naming the entry and field', (_name, config, message) => {
    const text = refusal(config);
    expect(text).toMatch(/^Invalid keys file keys\.json: /);
    expect(text).toMatch(message);
    // Never the key itself, not even a bad one.
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('short-key');
  });

  describe('from a file', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tinyllm-keys-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('reads JSON; a file that is not JSON is refused without quoting it', async () => {
      const path = join(dir, 'keys.json');
      await writeFile(path, JSON.stringify({ keys: [{ key: KEY, tenant: 'team-a', role: 'admin' }] }));
      expect((await KeyRing.fromFile(path)).principalOf(KEY)).toEqual({ tenant: 'team-a', role: 'admin' });
      await writeFile(path, `{"keys": [{"key": "${KEY}", "tenant": "team-a"}`);
      const error = await KeyRing.fromFile(path).catch((e: unknown) => e);
      expect(InvalidKeysFileError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('not valid JSON');
      expect((error as Error).message).not.toContain(KEY);
      const missing = await KeyRing.fromFile(join(dir, 'nope.json')).catch((e: unknown) => e);
      expect((missing as Error).message).toMatch(/nope\.json: the file: cannot be read \(ENOENT\)/);
    });
  });

  it('bearerKey reads `Bearer <key>` in any case, and nothing else', () => {
    expect(bearerKey(`Bearer ${KEY}`)).toBe(KEY);
    expect(bearerKey(`bearer   ${KEY}  `)).toBe(KEY);
    expect(bearerKey(`BEARER ${KEY}`)).toBe(KEY);
    expect(bearerKey(`Basic ${Buffer.from(`x:${KEY}`).toString('base64')}`)).toBeUndefined();
    expect(bearerKey('Bearer ')).toBeUndefined();
    expect(bearerKey(KEY)).toBeUndefined();
    expect(bearerKey(undefined)).toBeUndefined();
  });
});
