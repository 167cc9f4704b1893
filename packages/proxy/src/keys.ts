/**
 * API keys: the keys file, and the key ring the proxy checks `Authorization: Bearer <key>` against.
 * Only SHA-256 digests of the keys are kept once the file is read; a presented key is hashed and
 * its digest compared in constant time. Nothing here ever puts a key in a message or a log.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InvalidKeysFileError } from './errors.js';

/** What a key may do: a user works inside its tenant; an admin also sees and clears the whole cache. */
export type Role = 'user' | 'admin';

/** Who sent a request, from its key. */
export interface Principal {
  /** The tenant the key belongs to; its namespace in the cache. */
  readonly tenant: string;
  /** The key's role. */
  readonly role: Role;
}

/** A tenant's request rate limit (a token bucket). */
export interface RateLimitSpec {
  /** Requests per minute, sustained. */
  readonly requestsPerMinute: number;
  /** Requests that may arrive at once after a quiet spell. @default requestsPerMinute */
  readonly burst?: number;
}

/** One key of a keys file: the key itself or its SHA-256 (hex), its tenant and role. */
export interface KeySpec {
  /** The key as clients send it (16-512 visible ASCII characters, no spaces). Give this or sha256. */
  readonly key?: string;
  /** The SHA-256 of the key, 64 hex digits, so the file need not hold the key itself. Give this or key. */
  readonly sha256?: string;
  /** The tenant (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit). */
  readonly tenant: string;
  /** user or admin. @default "user" */
  readonly role?: Role;
  /** Free text for people reading the file; ignored. */
  readonly comment?: string;
}

/** What a keys file holds (JSON). */
export interface KeysConfig {
  /** The keys; at least one. */
  readonly keys: readonly KeySpec[];
  /** Per-tenant request rate limits, by tenant name. @default none */
  readonly tenants?: Readonly<Record<string, { readonly rateLimit?: RateLimitSpec; readonly comment?: string }>>;
}

/** The shortest key accepted: short keys can be guessed. */
export const MIN_KEY_LENGTH = 16;
/** The longest key accepted. */
export const MAX_KEY_LENGTH = 512;
/** A tenant name: the namespace rule without ':' (the separator of a tenant's sub-namespaces). */
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const KEY_FIELDS = new Set(['key', 'sha256', 'tenant', 'role', 'comment']);
const TENANT_FIELDS = new Set(['rateLimit', 'comment']);
const RATE_FIELDS = new Set(['requestsPerMinute', 'burst']);

const digestOf = (key: string): Buffer => hash('sha256', key, 'buffer');

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The keys the proxy accepts: digests only, each with its principal. Immutable; a reload builds a new ring. */
export class KeyRing {
  /** Principals by the hex SHA-256 of their key. */
  readonly #byDigest: Map<string, { digest: Buffer; principal: Principal }>;
  /** Rate limits by tenant. */
  readonly rateLimits: ReadonlyMap<string, Required<RateLimitSpec>>;
  /** Tenant names, sorted. */
  readonly tenants: readonly string[];

  private constructor(byDigest: Map<string, { digest: Buffer; principal: Principal }>, rateLimits: Map<string, Required<RateLimitSpec>>) {
    this.#byDigest = byDigest;
    this.rateLimits = rateLimits;
    this.tenants = [...new Set([...byDigest.values()].map((entry) => entry.principal.tenant))].sort();
  }

  /** Number of keys. */
  get size(): number {
    return this.#byDigest.size;
  }

  /**
   * The principal of a presented key, or undefined. The key is hashed first: the map is searched by
   * the digest, never by the key, and the digest found is compared again in constant time, so the
   * time taken tells nothing about how much of a key was right.
   */
  principalOf(key: string): Principal | undefined {
    const digest = digestOf(key);
    const entry = this.#byDigest.get(digest.toString('hex'));
    if (entry === undefined || !timingSafeEqual(entry.digest, digest)) return undefined;
    return entry.principal;
  }

  /** Checks a keys file's content and builds the ring; throws InvalidKeysFileError naming the entry and field (never a key). */
  static fromConfig(config: unknown, source = 'keys'): KeyRing {
    const fail = (where: string, reason: string): never => {
      throw new InvalidKeysFileError(source, where, reason);
    };
    if (!isRecord(config)) return fail('the file', 'expected a JSON object with a "keys" array');
    for (const field of Object.keys(config)) if (field !== 'keys' && field !== 'tenants') fail(field, 'unknown field (expected "keys" and "tenants")');
    const keys = config.keys;
    if (!Array.isArray(keys) || keys.length === 0) return fail('keys', 'expected a non-empty array of {"key" or "sha256", "tenant", "role"}');
    const byDigest = new Map<string, { digest: Buffer; principal: Principal }>();
    const seenAt = new Map<string, number>();
    for (const [i, spec] of (keys as unknown[]).entries()) {
      const at = `keys[${i}]`;
      if (!isRecord(spec)) return fail(at, 'expected an object');
      for (const field of Object.keys(spec))
        if (!KEY_FIELDS.has(field)) fail(`${at}.${field}`, 'unknown field (expected key or sha256, tenant, role, comment)');
      const { key, sha256, tenant, role = 'user' } = spec;
      if ((key === undefined) === (sha256 === undefined)) fail(at, 'give exactly one of "key" and "sha256"');
      let digest: Buffer;
      if (key !== undefined) {
        if (typeof key !== 'string') return fail(`${at}.key`, 'expected a string');
        if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH)
          fail(`${at}.key`, `${key.length} characters (expected ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH})`);
        if (!VISIBLE_ASCII.test(key)) fail(`${at}.key`, 'only visible ASCII characters, no spaces (it travels in an HTTP header)');
        digest = digestOf(key);
      } else {
        if (typeof sha256 !== 'string' || !HEX64.test(sha256)) return fail(`${at}.sha256`, 'expected 64 hex digits (the SHA-256 of the key)');
        digest = Buffer.from(sha256, 'hex');
      }
      if (typeof tenant !== 'string' || !TENANT.test(tenant))
        fail(`${at}.tenant`, "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
      if (role !== 'user' && role !== 'admin') fail(`${at}.role`, 'expected "user" or "admin"');
      if (spec.comment !== undefined && typeof spec.comment !== 'string') fail(`${at}.comment`, 'expected a string');
      const hex = digest.toString('hex');
      const earlier = seenAt.get(hex);
      if (earlier !== undefined) fail(at, `the same key as keys[${earlier}]`);
      seenAt.set(hex, i);
      byDigest.set(hex, { digest, principal: Object.freeze({ tenant: tenant as string, role: role as Role }) });
    }
    const tenantNames = new Set([...byDigest.values()].map((entry) => entry.principal.tenant));
    const rateLimits = new Map<string, Required<RateLimitSpec>>();
    if (config.tenants !== undefined) {
      if (!isRecord(config.tenants)) return fail('tenants', 'expected an object of tenant name: {"rateLimit": {...}}');
      for (const [name, settings] of Object.entries(config.tenants)) {
        const at = `tenants.${name}`;
        if (!tenantNames.has(name)) fail(at, 'no key belongs to this tenant (a misspelt name?)');
        if (!isRecord(settings)) return fail(at, 'expected an object');
        for (const field of Object.keys(settings)) if (!TENANT_FIELDS.has(field)) fail(`${at}.${field}`, 'unknown field (expected rateLimit, comment)');
        const limit = settings.rateLimit;
        if (limit === undefined) continue;
        if (!isRecord(limit)) return fail(`${at}.rateLimit`, 'expected {"requestsPerMinute": n, "burst": n}');
        for (const field of Object.keys(limit))
          if (!RATE_FIELDS.has(field)) fail(`${at}.rateLimit.${field}`, 'unknown field (expected requestsPerMinute, burst)');
        const rpm = limit.requestsPerMinute;
        if (typeof rpm !== 'number' || !Number.isInteger(rpm) || rpm < 1 || rpm > 1_000_000)
          fail(`${at}.rateLimit.requestsPerMinute`, 'expected a whole number from 1 to 1000000');
        const burst = limit.burst ?? rpm;
        if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 1_000_000)
          fail(`${at}.rateLimit.burst`, 'expected a whole number from 1 to 1000000');
        rateLimits.set(name, { requestsPerMinute: rpm as number, burst: burst as number });
      }
    }
    return new KeyRing(byDigest, rateLimits);
  }

  /** Reads and checks a keys file (JSON); throws InvalidKeysFileError with the path and the reason. */
  static async fromFile(path: string): Promise<KeyRing> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InvalidKeysFileError(path, 'the file', `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    return KeyRing.#parse(text, path);
  }

  /** fromFile, synchronously (at start-up). */
  static fromFileSync(path: string): KeyRing {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new InvalidKeysFileError(path, 'the file', `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    return KeyRing.#parse(text, path);
  }

  static #parse(text: string, path: string): KeyRing {
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (error) {
      // The parser's message quotes the text near the error, which may be a key: give the position only.
      const position = /position (\d+)/.exec(String(error))?.[1];
      throw new InvalidKeysFileError(path, 'the file', `not valid JSON${position === undefined ? '' : ` (near character ${position})`}`);
    }
    return KeyRing.fromConfig(config, path);
  }
}

/** The key of an Authorization header (`Bearer <key>`, scheme in any case), or undefined when there is none. */
export function bearerKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (text.length < 8 || text.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const key = text.slice(7).trim();
  return key === '' ? undefined : key;
}
