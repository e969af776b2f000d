// SQLite schema of a conversation object (context mode and kv mode), versioned
// and migrated additively: the one migration system of the object.
//
// The stored version lives in `meta` under "schema_version". On start the
// object runs every migration whose version is above the stored one, in one
// transaction, then stores SCHEMA_VERSION. Migrations only add (tables,
// columns, indexes); they never rewrite or drop user data, so an object
// written by any older build opens under a newer one.
//
// Row sizes stay far below the 2 MB row limit: message content is capped at
// MAX_MESSAGE_BYTES, an embedding is dim × 4 bytes (1.5 KB at 384), a centroid
// the same, representative ids and top terms are short JSON arrays.
import type { Sql } from "../storage/sql";

/**
 * Bump when a migration is appended to MIGRATIONS (set it to the new last
 * version). Never edit a migration that has shipped; add a new one instead.
 */
export const SCHEMA_VERSION = 5;

/** Largest message content accepted, in UTF-8 bytes (keeps every row well under 2 MB). */
export const MAX_MESSAGE_BYTES = 512 * 1024;

export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "messages, segments, embeddings, episodes, idempotency keys, counters, schedule",
    statements: [
      `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      // chain = H(previous chain, message digest): identifies a message together with everything before it.
      `CREATE TABLE IF NOT EXISTS messages (
         seq INTEGER PRIMARY KEY,
         id TEXT NOT NULL UNIQUE,
         role TEXT NOT NULL,
         content TEXT NOT NULL,
         name TEXT,
         tool_call_id TEXT,
         tool_calls TEXT,
         tokens INTEGER NOT NULL,
         digest TEXT NOT NULL,
         chain TEXT NOT NULL,
         created_at INTEGER NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS messages_by_digest ON messages (digest)`,
      `CREATE TABLE IF NOT EXISTS segments (
         id INTEGER PRIMARY KEY,
         first_seq INTEGER NOT NULL,
         last_seq INTEGER NOT NULL,
         episode INTEGER,
         score REAL NOT NULL DEFAULT 0)`,
      `CREATE INDEX IF NOT EXISTS segments_by_episode ON segments (episode, id)`,
      `CREATE TABLE IF NOT EXISTS segment_embeddings (segment_id INTEGER PRIMARY KEY, vec BLOB NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS episodes (
         id INTEGER PRIMARY KEY,
         centroid BLOB NOT NULL,
         size INTEGER NOT NULL,
         representatives TEXT NOT NULL,
         top_terms TEXT NOT NULL DEFAULT '[]')`,
      `CREATE TABLE IF NOT EXISTS import_keys (key TEXT PRIMARY KEY, result TEXT NOT NULL, created_at INTEGER NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS schedule (kind TEXT PRIMARY KEY, run_at INTEGER NOT NULL)`,
    ],
  },
  {
    version: 2,
    description: "weighted character count per message (token estimator input) and tool-call unit heads",
    statements: [
      // Weighted chars (ASCII 1, other code points 4): tokens are re-estimated from it as calibration changes.
      `ALTER TABLE messages ADD COLUMN weight INTEGER NOT NULL DEFAULT 0`,
      // seq of the assistant message whose tool_calls this message answers (itself otherwise): such units are sent whole.
      `ALTER TABLE messages ADD COLUMN unit_head INTEGER`,
      `UPDATE messages SET weight = length(content) WHERE weight = 0`,
      `UPDATE messages SET unit_head = seq WHERE unit_head IS NULL`,
      `CREATE INDEX IF NOT EXISTS messages_by_unit ON messages (unit_head, seq)`,
    ],
  },
  {
    version: 3,
    description: "index of system messages (pinned every turn; without it each turn scanned all messages)",
    statements: [`CREATE INDEX IF NOT EXISTS messages_pinned ON messages (seq) WHERE role = 'system'`],
  },
  {
    version: 4,
    // Before this version kv mode created these tables itself, versioned under
    // meta.kv_schema_version (then 1, the same statements); IF NOT EXISTS keeps
    // such a database's kv state, and that meta row is no longer read.
    description: "kv mode: pages by (cache, layer, head, page), the token stream in chunks, kv state, queued cache rebuilds",
    statements: [
      // A page blob is at most MAX_PAGE_BYTES (512 KiB, kv/pages.ts).
      `CREATE TABLE IF NOT EXISTS kv_pages (
         cache TEXT NOT NULL,
         layer INTEGER NOT NULL,
         head INTEGER NOT NULL,
         page INTEGER NOT NULL,
         first_position INTEGER NOT NULL,
         last_position INTEGER NOT NULL,
         count INTEGER NOT NULL,
         has_acc INTEGER NOT NULL,
         blob BLOB NOT NULL,
         PRIMARY KEY (cache, layer, head, page))`,
      // TOKEN_CHUNK × 4 bytes (64 KiB) per row (kv/state-store.ts).
      `CREATE TABLE IF NOT EXISTS kv_tokens (chunk INTEGER PRIMARY KEY, tokens BLOB NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS kv_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      // Background cache rebuilds (online growth): one row per episode whose prompt changed.
      `CREATE TABLE IF NOT EXISTS kv_rebuilds (episode INTEGER PRIMARY KEY, prompt BLOB NOT NULL, requested_at INTEGER NOT NULL)`,
    ],
  },
  {
    version: 5,
    description: "messages superseded by a fork (regenerate, edit): kept out of the live tables (conversation/fork.ts)",
    statements: [
      `CREATE TABLE IF NOT EXISTS superseded_messages (
         seq INTEGER NOT NULL,
         id TEXT NOT NULL,
         role TEXT NOT NULL,
         content TEXT NOT NULL,
         name TEXT,
         tool_call_id TEXT,
         tool_calls TEXT,
         tokens INTEGER NOT NULL,
         digest TEXT NOT NULL,
         chain TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         weight INTEGER NOT NULL,
         unit_head INTEGER,
         superseded_at INTEGER NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS superseded_by_seq ON superseded_messages (seq, superseded_at)`,
    ],
  },
];

/** Migrations to run for a stored version (0 = fresh database), in order. */
export function pendingMigrations(storedVersion: number, migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  if (!Number.isInteger(storedVersion) || storedVersion < 0) throw new RangeError(`bad stored schema version ${storedVersion}`);
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (storedVersion > latest) {
    throw new Error(`stored schema version ${storedVersion} is newer than this build's ${latest}; refusing to open`);
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version !== migrations[i - 1]!.version + 1) throw new Error("migrations must be numbered consecutively");
  }
  return migrations.filter((m) => m.version > storedVersion);
}

function storedVersion(sql: Sql): number {
  const hasMeta = sql.first<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`;
  if (!hasMeta) return 0;
  const row = sql.first<{ value: string }>`SELECT value FROM meta WHERE key = 'schema_version'`;
  return row ? Number(row.value) : 0;
}

/** Brings the database to SCHEMA_VERSION; call inside a transaction. Returns the versions applied. */
export function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const pending = pendingMigrations(storedVersion(sql), migrations);
  for (const migration of pending) {
    for (const statement of migration.statements) sql.exec(statement, []);
    sql.run`INSERT INTO meta (key, value) VALUES ('schema_version', ${String(migration.version)})
            ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  }
  return pending.map((m) => m.version);
}
