import type Database from 'better-sqlite3';

/** The counter columns of the `counters` table, in the order of SharedCounters. */
export const COUNTER_COLUMNS = ['hits', 'misses', 'sets', 'errors', 'evictions', 'saved_duration_ns', 'saved_tokens', 'stale'] as const;

/** One counter column. */
export type CounterColumn = (typeof COUNTER_COLUMNS)[number];

/** The parameters of one counters UPSERT: a namespace and a delta per column. */
export type CounterDelta = { ns: string } & Record<CounterColumn, number>;

/** A row of `counters`. */
export type CounterRow = Record<CounterColumn, number>;

/** The per-model counter columns of `model_counters`. */
export const MODEL_COUNTER_COLUMNS = ['hits', 'misses', 'saved_duration_ns', 'saved_tokens'] as const;

/** One model's counter deltas. */
export type ModelCounterDelta = Record<(typeof MODEL_COUNTER_COLUMNS)[number], number>;

/** A row of `model_counters`. */
export type ModelCounterRow = { model: string } & ModelCounterDelta;

/** What a listing reads of an entry row (never the value). */
export interface ListRow {
  key: string;
  created_at: number;
  expires_at: number | null;
  last_access: number;
  access_count: number;
  size_bytes: number;
  value_bytes: number | null;
  endpoint: string | null;
  model: string | null;
}

/** What peek reads of an entry row. */
export interface PeekRow {
  value: string;
  expires_at: number | null;
  access_count: number;
  last_access: number;
}

/** What a lookup reads of an entry row. */
export interface EntryRow {
  value: string;
  expires_at: number | null;
  stale_until: number | null;
  access_count: number;
  access_seq: number;
}

/** count, bytes, oldest and newest of a set of entry rows (stale: rows past expires_at kept for stale-if-error, included in entries). */
export interface AggregateRow {
  entries: number;
  stale: number;
  bytes: number;
  oldest: number | null;
  newest: number | null;
}

/** Entry rows of one namespace whose key starts with a prefix: `key >= @lo AND key < @hi` (the primary key's range). */
const IN_PREFIX = 'namespace = @ns AND key >= @lo AND key < @hi';

/** The bounds of a key-prefix range: every key that starts with prefix sorts in [prefix, hi) under SQLite's byte order. */
export function prefixRange(prefix: string): { lo: string; hi: string } {
  return { lo: prefix, hi: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1) };
}

const LIST_COLUMNS = 'key, created_at, expires_at, last_access, access_count, size_bytes, value_bytes, endpoint, model';
const NEXT_SEQ = '(SELECT coalesce(max(access_seq), 0) + 1 FROM entries WHERE namespace = @ns)';
/** A row past expires_at, kept only for stale-if-error (purged rows are past stale_until too). */
const STALE_ROW = 'expires_at IS NOT NULL AND expires_at <= @now';
/** A row past its expiry and its stale window: the store drops it. */
const RETIRED_ROW = 'expires_at IS NOT NULL AND expires_at <= @now AND (stale_until IS NULL OR stale_until <= @now)';
const AGGREGATE = `SELECT count(*) AS entries, total(CASE WHEN ${STALE_ROW} THEN 1 ELSE 0 END) AS stale, total(size_bytes) AS bytes, min(created_at) AS oldest, max(created_at) AS newest FROM entries`;

/** The SQL of every statement the backend runs. */
const SQL = {
  select: 'SELECT value, expires_at, stale_until, access_count, access_seq FROM entries WHERE namespace = ? AND key = ?',
  selectExpiry: 'SELECT expires_at FROM entries WHERE namespace = ? AND key = ?',
  touch: `UPDATE entries SET last_access = @now, access_count = access_count + 1, access_seq = ${NEXT_SEQ} WHERE namespace = @ns AND key = @key`,
  upsert: `INSERT INTO entries (namespace, key, value, created_at, expires_at, stale_until, last_access, access_count, access_seq, size_bytes, endpoint, model, value_bytes)
     VALUES (@ns, @key, @value, @createdAt, @expiresAt, @staleUntil, @lastAccess, @accessCount, ${NEXT_SEQ}, @size, @endpoint, @model, @valueBytes)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at,
       expires_at = excluded.expires_at, stale_until = excluded.stale_until, last_access = excluded.last_access, access_count = excluded.access_count,
       access_seq = excluded.access_seq, size_bytes = excluded.size_bytes, endpoint = excluded.endpoint,
       model = excluded.model, value_bytes = excluded.value_bytes`,
  listPage: `SELECT ${LIST_COLUMNS} FROM entries WHERE namespace = @ns AND key > @after AND (expires_at IS NULL OR expires_at > @now) ORDER BY key LIMIT @limit`,
  listPagePrefix: `SELECT ${LIST_COLUMNS} FROM entries WHERE ${IN_PREFIX} AND key > @after AND (expires_at IS NULL OR expires_at > @now) ORDER BY key LIMIT @limit`,
  peek: 'SELECT value, expires_at, access_count, last_access FROM entries WHERE namespace = ? AND key = ?',
  purgeExpiredPrefix: `DELETE FROM entries WHERE ${IN_PREFIX} AND ${RETIRED_ROW}`,
  addModelCounters: `INSERT INTO model_counters (namespace, model, ${MODEL_COUNTER_COLUMNS.join(', ')}) VALUES (@ns, @model, ${MODEL_COUNTER_COLUMNS.map((c) => `@${c}`).join(', ')})
     ON CONFLICT (namespace, model) DO UPDATE SET ${MODEL_COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  readModelCounters: `SELECT model, ${MODEL_COUNTER_COLUMNS.join(', ')} FROM model_counters WHERE namespace = ?`,
  resetModelCounters: 'DELETE FROM model_counters WHERE namespace = ?',
  deleteKey: 'DELETE FROM entries WHERE namespace = ? AND key = ? RETURNING expires_at',
  deleteIfExpired: `DELETE FROM entries WHERE namespace = @ns AND key = @key AND ${RETIRED_ROW}`,
  deleteIfUnchanged: 'DELETE FROM entries WHERE namespace = ? AND key = ? AND access_seq = ?',
  purgeExpired: `DELETE FROM entries WHERE namespace = @ns AND ${RETIRED_ROW}`,
  deleteNamespace: 'DELETE FROM entries WHERE namespace = ?',
  deletePrefix: `DELETE FROM entries WHERE ${IN_PREFIX}`,
  usage: 'SELECT entry_count, byte_count FROM usage WHERE namespace = ?',
  lruVictims: 'SELECT key, size_bytes FROM entries WHERE namespace = ? AND key <> ? ORDER BY access_seq',
  aggregate: `${AGGREGATE} WHERE namespace = @ns`,
  aggregatePrefix: `${AGGREGATE} WHERE ${IN_PREFIX}`,
  aggregateUnexpired: `${AGGREGATE} WHERE namespace = @ns AND NOT (${RETIRED_ROW})`,
  aggregateUnexpiredPrefix: `${AGGREGATE} WHERE ${IN_PREFIX} AND NOT (${RETIRED_ROW})`,
  repairUsage:
    'INSERT INTO usage (namespace, entry_count, byte_count) VALUES (?, ?, ?) ON CONFLICT (namespace) DO UPDATE SET entry_count = excluded.entry_count, byte_count = excluded.byte_count',
  addCounters: `INSERT INTO counters (namespace, ${COUNTER_COLUMNS.join(', ')}) VALUES (@ns, ${COUNTER_COLUMNS.map((c) => `@${c}`).join(', ')})
     ON CONFLICT (namespace) DO UPDATE SET ${COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  readCounters: `SELECT ${COUNTER_COLUMNS.join(', ')} FROM counters WHERE namespace = ?`,
  resetCounters: `UPDATE counters SET ${COUNTER_COLUMNS.map((c) => `${c} = 0`).join(', ')} WHERE namespace = ?`,
} as const;

/** The prepared statements of one connection, by name. */
export type Statements = { readonly [Name in keyof typeof SQL]: Database.Statement };

/** Every statement the backend runs, prepared once per connection. */
export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])) as Statements;
}
