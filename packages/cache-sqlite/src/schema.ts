import { BackendError } from '@tinyllm/cache-core';
import type Database from 'better-sqlite3';

/** Layout version of the file, kept in `PRAGMA user_version`; bump it and add a migration when the layout changes. */
export const SCHEMA_VERSION = 4;

/** `PRAGMA application_id` of a TinyLLM cache file ("TLLC"), so a foreign SQLite file is recognised. */
export const APPLICATION_ID = 0x544c4c43;

/**
 * Version 1. `entries` holds one row per (namespace, key): the entry encoded with cache-core's
 * codec plus the metadata queries need as columns. `access_seq` orders rows by recency (a
 * per-namespace sequence, so ties within one millisecond still evict in LRU order). `usage` is
 * kept by triggers, so the bounds are checked in O(1) by every process. `counters` holds the
 * shared metrics of each namespace.
 */
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS entries (
  namespace    TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  value        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_access  INTEGER NOT NULL,
  access_count INTEGER NOT NULL DEFAULT 0,
  access_seq   INTEGER NOT NULL,
  size_bytes   INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS entries_lru ON entries (namespace, access_seq);
CREATE INDEX IF NOT EXISTS entries_expiry ON entries (namespace, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS usage (
  namespace   TEXT    NOT NULL PRIMARY KEY,
  entry_count INTEGER NOT NULL DEFAULT 0,
  byte_count  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS entries_usage_insert AFTER INSERT ON entries BEGIN
  INSERT INTO usage (namespace, entry_count, byte_count) VALUES (NEW.namespace, 1, NEW.size_bytes)
  ON CONFLICT (namespace) DO UPDATE SET entry_count = entry_count + 1, byte_count = byte_count + NEW.size_bytes;
END;
CREATE TRIGGER IF NOT EXISTS entries_usage_update AFTER UPDATE OF size_bytes ON entries BEGIN
  UPDATE usage SET byte_count = byte_count - OLD.size_bytes + NEW.size_bytes WHERE namespace = NEW.namespace;
END;
CREATE TRIGGER IF NOT EXISTS entries_usage_delete AFTER DELETE ON entries BEGIN
  UPDATE usage SET entry_count = entry_count - 1, byte_count = byte_count - OLD.size_bytes WHERE namespace = OLD.namespace;
END;

CREATE TABLE IF NOT EXISTS counters (
  namespace         TEXT    NOT NULL PRIMARY KEY,
  hits              INTEGER NOT NULL DEFAULT 0,
  misses            INTEGER NOT NULL DEFAULT 0,
  sets              INTEGER NOT NULL DEFAULT 0,
  errors            INTEGER NOT NULL DEFAULT 0,
  evictions         INTEGER NOT NULL DEFAULT 0,
  saved_duration_ns INTEGER NOT NULL DEFAULT 0,
  saved_tokens      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;

/**
 * Version 2 (stale-if-error): `entries.stale_until` (ms since the epoch, null = not kept past
 * expires_at; always >= expires_at when set) keeps a row past its expiry, and `counters.stale`
 * counts stale answers. A row is live while `expires_at` is null or in the future, and stays in the
 * file until `coalesce(stale_until, expires_at)`.
 */
function migrateTo2(db: Database.Database): void {
  db.exec(`
ALTER TABLE entries ADD COLUMN stale_until INTEGER;
ALTER TABLE counters ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
`);
}

/**
 * Version 3: `leases` holds the cross-process single-flight lease of each (namespace, key) being
 * computed: the holder's random token and when the lease lapses (ms since the epoch). Rows are
 * few and short-lived (released after the write), never entries.
 */
const LEASES_V3 = `
CREATE TABLE IF NOT EXISTS leases (
  namespace  TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  token      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
`;

/** Where the model slot of an encoded entry ("tlc1:[created,expires,count,last,size,SLOT,value]") sits, for SQL's JSON functions. */
const SLOT = "substr(value, 6), '$[5]'";

/**
 * Version 4: what listings need as columns, so a listing never reads a value. `endpoint`, `model` and
 * `value_bytes` (the entry's sizeBytes: its value's bytes, where size_bytes counts the encoded row)
 * on entries, filled in from the stored entries of an older file; `model_counters` holds the
 * per-model hits, misses and savings of each namespace.
 */
function migrateTo4(db: Database.Database): void {
  db.exec(`
ALTER TABLE entries ADD COLUMN endpoint TEXT;
ALTER TABLE entries ADD COLUMN model TEXT;
ALTER TABLE entries ADD COLUMN value_bytes INTEGER;
UPDATE entries SET
  model = CASE json_type(${SLOT}) WHEN 'text' THEN json_extract(${SLOT}) WHEN 'array' THEN json_extract(substr(value, 6), '$[5][0]') END,
  endpoint = CASE json_type(${SLOT}) WHEN 'array' THEN json_extract(substr(value, 6), '$[5][1]') END,
  value_bytes = json_extract(substr(value, 6), '$[4]')
WHERE value LIKE 'tlc1:%' AND json_valid(substr(value, 6));

CREATE TABLE IF NOT EXISTS model_counters (
  namespace         TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  hits              INTEGER NOT NULL DEFAULT 0,
  misses            INTEGER NOT NULL DEFAULT 0,
  saved_duration_ns INTEGER NOT NULL DEFAULT 0,
  saved_tokens      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, model)
) WITHOUT ROWID;
`);
}

/**
 * Upgrades from version i + 1 to i + 2 (index 0 upgrades 1 to 2). A fresh file gets version 1's
 * tables and then every migration, so it ends with the same layout as an upgraded one.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [migrateTo2, (db) => db.exec(LEASES_V3), migrateTo4];

const readPragma = (db: Database.Database, name: string): number => Number(db.pragma(name, { simple: true }));

function refuseNewer(path: string, version: number): BackendError {
  return new BackendError(
    'sqlite',
    'open',
    `${path} has cache schema version ${version}, newer than this @tinyllm/cache-sqlite understands (${SCHEMA_VERSION}): upgrade the package or use another path`,
  );
}

function refuseForeign(path: string): BackendError {
  return new BackendError('sqlite', 'open', `${path} is a SQLite database of another application, not a TinyLLM cache: use another path`);
}

/**
 * Checks, without writing, that a file opened read-only is a cache of exactly this schema version
 * (a read-only file cannot be created or migrated).
 */
export function checkSchema(db: Database.Database, path: string): void {
  const version = readPragma(db, 'user_version');
  if (version > SCHEMA_VERSION) throw refuseNewer(path, version);
  if (version === 0 && readPragma(db, 'application_id') === 0) {
    throw new BackendError('sqlite', 'open', `${path} is read-only and holds no TinyLLM cache yet: nothing to read`);
  }
  if (readPragma(db, 'application_id') !== APPLICATION_ID) throw refuseForeign(path);
  if (version < SCHEMA_VERSION) {
    throw new BackendError('sqlite', 'open', `${path} has cache schema version ${version} and is read-only, so it cannot be upgraded to ${SCHEMA_VERSION}`);
  }
}

/**
 * Creates or upgrades the schema. Safe when many processes open one fresh file at once: the work
 * runs in an IMMEDIATE transaction that re-reads the version, so exactly one process creates the
 * tables and the others see version SCHEMA_VERSION. A newer or foreign file is refused with BackendError.
 */
export function ensureSchema(db: Database.Database, path: string): void {
  const seen = readPragma(db, 'user_version');
  if (seen === SCHEMA_VERSION) {
    if (readPragma(db, 'application_id') !== APPLICATION_ID) throw refuseForeign(path);
    return;
  }
  if (seen > SCHEMA_VERSION) throw refuseNewer(path, seen);
  db.transaction(() => {
    const version = readPragma(db, 'user_version');
    if (version > SCHEMA_VERSION) throw refuseNewer(path, version);
    if (version === SCHEMA_VERSION) return;
    if (version === 0) {
      const objects = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as { n: number };
      if (objects.n > 0 || readPragma(db, 'application_id') !== 0) throw refuseForeign(path);
      db.exec(SCHEMA_V1);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    } else if (readPragma(db, 'application_id') !== APPLICATION_ID) {
      throw refuseForeign(path);
    }
    // A fresh file (version 0, now version 1's tables) is migrated like an old version-1 file.
    for (const migrate of MIGRATIONS.slice(Math.max(version, 1) - 1)) migrate(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
