/**
 * Who may do what: API keys (a keys file, reloadable), tenants and their namespaces, per-tenant
 * rate limits, and the access level of each operation under /tinyllm/. Without keys every client
 * that reaches the proxy may do everything, as before (the proxy binds loopback unless told otherwise).
 */
import { InvalidOptionError } from '@tinyllm/cache-core';
import { checkNamespace } from './controls.js';
import { InvalidControlError } from './errors.js';
import { bearerKey, KeyRing, type KeysConfig, type Principal } from './keys.js';
import { RateLimiter } from './rate-limit.js';

/** Who may use an operation when the proxy has keys: anyone (no key), any valid key, or admin keys only. */
export type OpsAccessLevel = 'public' | 'user' | 'admin';

/** Access levels of the /tinyllm/ operations by name; an operation not named here is admin-only. */
export type OpsAccess = Readonly<Record<string, OpsAccessLevel>>;

/** The access levels used unless told otherwise: probes are public, stats and clear are per tenant for users, metrics (whole-cache figures) admin-only. */
export const DEFAULT_OPS_ACCESS: OpsAccess = Object.freeze({
  health: 'public',
  ready: 'public',
  stats: 'user',
  clear: 'user',
  metrics: 'admin',
  // The entry tools are scoped to the caller's tenant, like stats and clear.
  entries: 'user',
  entry: 'user',
  export: 'user',
  import: 'user',
  prune: 'admin',
  // Whole-proxy traffic (every tenant's requests): admin-only, like metrics.
  activity: 'admin',
  // The page itself holds no data (it fetches stats and activity with the key from its URL fragment).
  dashboard: 'public',
});

/** Separates a tenant from its sub-namespaces (`team-a:dev`). Tenant and namespace names cannot contain it, so no name picked by a request can reach outside its tenant. */
export const TENANT_SEPARATOR = ':';

/** The namespace of a tenant's request: the tenant's own, or `tenant:sub` for a sub-namespace it picked. */
export function tenantNamespace(tenant: string, sub: string | undefined): string {
  return sub === undefined ? tenant : `${tenant}${TENANT_SEPARATOR}${sub}`;
}

/** Checks a namespace an admin names in full (`name` or `tenant:sub`); throws InvalidControlError naming the source. */
export function checkFullNamespace(name: string, source: string): string {
  const at = name.indexOf(TENANT_SEPARATOR);
  if (at === -1) return checkNamespace(name, source);
  try {
    checkNamespace(name.slice(0, at), source);
    checkNamespace(name.slice(at + 1), source);
  } catch {
    throw new InvalidControlError(source, name.length > 100 ? `${name.slice(0, 100)}...` : name, 'expected a namespace name, or tenant:name');
  }
  return name;
}

/** Where the keys come from. */
export interface KeysSource {
  /** A keys file (JSON), read at start and again on reloadKeys(). */
  keysFile?: string | undefined;
  /** The same content given directly. */
  keys?: KeysConfig | undefined;
}

/** What reloadKeys() found. */
export interface KeysSummary {
  /** Keys accepted. */
  keys: number;
  /** Tenants they belong to. */
  tenants: number;
}

const VALID_LEVELS = new Set<OpsAccessLevel>(['public', 'user', 'admin']);

/** The proxy's access rules (see the module comment). */
export class AccessControl {
  /** The keys file, when keys come from one. */
  readonly keysFile: string | undefined;
  /** Access levels of the operations. */
  readonly opsAccess: OpsAccess;
  /** Per-tenant request rate limits. */
  readonly rateLimiter = new RateLimiter();
  #ring: KeyRing | undefined;

  constructor(source: KeysSource, opsAccess: Partial<OpsAccess> | undefined) {
    this.keysFile = source.keysFile;
    this.opsAccess = { ...DEFAULT_OPS_ACCESS, ...(opsAccess as OpsAccess | undefined) };
    for (const [operation, level] of Object.entries(this.opsAccess)) {
      if (!VALID_LEVELS.has(level)) throw new InvalidOptionError(`opsAccess.${operation}`, level, '"public", "user" or "admin"');
    }
    const ring =
      source.keysFile !== undefined ? KeyRing.fromFileSync(source.keysFile) : source.keys !== undefined ? KeyRing.fromConfig(source.keys) : undefined;
    if (ring !== undefined) this.#install(ring);
  }

  /** True when the proxy has API keys (every request then needs one, but for public operations). */
  get enabled(): boolean {
    return this.#ring !== undefined;
  }

  /** The tenants of the current keys (sorted; empty without keys). */
  get tenants(): readonly string[] {
    return this.#ring?.tenants ?? [];
  }

  /** The principal of an Authorization header's Bearer key, or undefined (no key, or not a valid one). */
  principalOf(authorization: string | undefined): Principal | undefined {
    const key = bearerKey(authorization);
    return key === undefined ? undefined : this.#ring?.principalOf(key);
  }

  /** True when an operation needs no key. */
  isPublic(operation: string | undefined): boolean {
    return operation !== undefined && this.opsAccess[operation] === 'public';
  }

  /** True when principal may use operation (always, without keys). */
  allows(principal: Principal | undefined, operation: string): boolean {
    if (this.#ring === undefined) return true;
    const level = this.opsAccess[operation] ?? 'admin';
    if (level === 'public') return true;
    if (principal === undefined) return false;
    return level === 'user' || principal.role === 'admin';
  }

  /**
   * Reads the keys again: the keys file (or `keys`, given), checked whole before it replaces the
   * current keys. A bad file throws InvalidKeysFileError and the current keys stay in force.
   */
  async reload(keys?: KeysConfig): Promise<KeysSummary> {
    let ring: KeyRing;
    if (keys !== undefined) ring = KeyRing.fromConfig(keys);
    else if (this.keysFile !== undefined) ring = await KeyRing.fromFile(this.keysFile);
    else throw new InvalidOptionError('keys', undefined, 'the keys to use: this proxy has no keys file to read again');
    this.#install(ring);
    return { keys: ring.size, tenants: ring.tenants.length };
  }

  #install(ring: KeyRing): void {
    this.rateLimiter.configure(ring.rateLimits);
    this.#ring = ring;
  }
}
