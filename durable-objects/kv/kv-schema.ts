// SQLite tables of kv mode, versioned on their own (meta key
// "kv_schema_version") with the same additive migration rules and runner
// checks as the conversation schema (../schema.ts), so kv mode can evolve
// without renumbering context mode's migrations.
//
// Row sizes: a page blob is at most MAX_PAGE_BYTES (512 KiB, pages.ts); a
// token chunk TOKEN_CHUNK × 4 bytes (64 KiB); state values are small JSON.
import { pendingMigrations, type Migration } from "../conversation/schema";
import type { Sql } from "../storage/sql";

export const KV_SCHEMA_VERSION = 1;

export const KV_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "kv pages by (cache, layer, head, page), the conversation token stream in chunks, kv state",
    statements: [
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
      `CREATE TABLE IF NOT EXISTS kv_tokens (chunk INTEGER PRIMARY KEY, tokens BLOB NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS kv_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      // Background cache rebuilds (online growth): one row per episode whose prompt changed.
      `CREATE TABLE IF NOT EXISTS kv_rebuilds (episode INTEGER PRIMARY KEY, prompt BLOB NOT NULL, requested_at INTEGER NOT NULL)`,
    ],
  },
];

/** Brings the kv tables to KV_SCHEMA_VERSION; call inside a transaction. Returns the versions applied. */
export function migrateKv(sql: Sql, migrations: readonly Migration[] = KV_MIGRATIONS): number[] {
  sql.run`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;
  const row = sql.first<{ value: string }>`SELECT value FROM meta WHERE key = 'kv_schema_version'`;
  const pending = pendingMigrations(row ? Number(row.value) : 0, migrations);
  for (const m of pending) {
    for (const statement of m.statements) sql.exec(statement, []);
    sql.run`INSERT INTO meta (key, value) VALUES ('kv_schema_version', ${String(m.version)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  }
  return pending.map((m) => m.version);
}
