import type { EntryInfo } from '../contract.js';
import { InvalidOptionError } from '../errors.js';
import { normalizeModelName } from '../keys.js';

/** Which entries an entry tool (list, delete, export) works on; every given field must match. */
export interface EntryFilter {
  /** Only entries of this model (`name` and `name:latest` are one model). @default any */
  model?: string;
  /** Only entries of this key namespace (exactly: not its sub-namespaces). @default any */
  namespace?: string;
  /** Only entries whose key starts with `within + ":"`: a namespace and its sub-namespaces (a tenant's scope); read from the store by that prefix. @default every entry */
  within?: string;
  /** Only entries of this endpoint (generate, chat, embed...). @default any */
  endpoint?: string;
  /** Only entries at least this many seconds old. @default any age */
  olderThanSeconds?: number;
  /** Only entries at most this many seconds old. @default any age */
  newerThanSeconds?: number;
  /** Only entries whose value is at least this many bytes. @default any size */
  minBytes?: number;
  /** Only entries whose value is at most this many bytes. @default any size */
  maxBytes?: number;
}

const NUMBER_FIELDS = ['olderThanSeconds', 'newerThanSeconds', 'minBytes', 'maxBytes'] as const;

/** Checks a filter's fields (InvalidOptionError for a bad one) and returns a predicate over entry metadata. */
export function compileFilter(filter: EntryFilter = {}): (info: EntryInfo, now: number) => boolean {
  for (const field of NUMBER_FIELDS) {
    const value = filter[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new InvalidOptionError(field, value, 'a finite number >= 0');
    }
  }
  for (const field of ['model', 'namespace', 'endpoint', 'within'] as const) {
    const value = filter[field];
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new InvalidOptionError(field, value, 'a non-empty string');
  }
  const model = filter.model === undefined ? undefined : normalizeModelName(filter.model);
  const { namespace, endpoint, olderThanSeconds, newerThanSeconds, minBytes, maxBytes } = filter;
  return (info, now) => {
    if (model !== undefined && (info.model === null || normalizeModelName(info.model) !== model)) return false;
    if (namespace !== undefined && info.namespace !== namespace) return false;
    if (endpoint !== undefined && info.endpoint !== endpoint) return false;
    const ageMs = now - info.createdAt;
    if (olderThanSeconds !== undefined && ageMs < olderThanSeconds * 1000) return false;
    if (newerThanSeconds !== undefined && ageMs > newerThanSeconds * 1000) return false;
    if (minBytes !== undefined && info.sizeBytes < minBytes) return false;
    if (maxBytes !== undefined && info.sizeBytes > maxBytes) return false;
    return true;
  };
}
