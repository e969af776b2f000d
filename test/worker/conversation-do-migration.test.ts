// Schema migration on real Durable Object SQLite: build the version-1 schema
// with data in it, then let the current build open it.
import { runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import type { Env } from "../../worker/env";
import { describe, expect, it } from "vitest";
import { ConversationDO } from "../../durable-objects/conversation/conversation-do";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "../../durable-objects/conversation/schema";
import { sqlOver } from "../../durable-objects/storage/sql";
import { chainValues, messageDigest, messageId } from "../../durable-objects/conversation/hash-chain";

const env = rawEnv as unknown as Env;

/** Starts from nothing, as a database written by an older release would before its first migration. */
function dropAllTables(raw: SqlStorage): void {
  for (const { name } of raw.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'`).toArray()) {
    raw.exec(`DROP TABLE ${name}`);
  }
}

describe("ConversationDO schema migrations", () => {
  it("migrates a version-1 database with data to the current schema and keeps working", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`migrate-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const raw = state.storage.sql;
      // Start from nothing, as a database written by the first release would be.
      dropAllTables(raw);
      const sql = sqlOver(raw);
      expect(migrate(sql, MIGRATIONS.slice(0, 1))).toEqual([1]);
      const msgs = [{ role: "user" as const, content: "hello there" }, { role: "assistant" as const, content: "hi" }];
      const chains = chainValues(msgs.map(messageDigest));
      msgs.forEach((m, seq) => {
        raw.exec(
          "INSERT INTO messages (seq, id, role, content, tokens, digest, chain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          seq, messageId(chains[seq]!), m.role, m.content, 7, messageDigest(m), chains[seq]!, 1,
        );
      });
      raw.exec("INSERT INTO meta (key, value) VALUES ('id', 'old'), ('created_at', '1'), ('settings', ?)", JSON.stringify({ budget_tokens: 4096, episodes: 4, window: 4, recent_messages: 8 }));
      raw.exec("INSERT INTO counters (name, value) VALUES ('messages', 2), ('weight', 13)");
      const v1Columns = raw.exec<{ name: string }>("PRAGMA table_info(messages)").toArray().map((c) => c.name);
      expect(v1Columns).not.toContain("weight");

      // What the constructor does on start.
      expect(migrate(sql)).toEqual(MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version));
      expect(raw.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value).toBe(String(SCHEMA_VERSION));
      const rows = raw.exec<{ seq: number; weight: number; unit_head: number }>("SELECT seq, weight, unit_head FROM messages ORDER BY seq").toArray();
      expect(rows).toEqual([{ seq: 0, weight: 11, unit_head: 0 }, { seq: 1, weight: 2, unit_head: 1 }]);
      expect(migrate(sql)).toEqual([]); // idempotent

      // A fresh instance over the migrated storage serves the old data and appends to its chain.
      const reopened = new ConversationDO(state, env);
      expect((await reopened.info())!.message_count).toBe(2);
      const plan = await reopened.planTurn([...msgs, { role: "user", content: "still there?" }]);
      expect(plan.new_messages).toBe(1);
      expect(await reopened.commitTurn([...msgs, { role: "user", content: "still there?" }], { role: "assistant", content: "yes" })).toEqual({ message_count: 4, appended: 2 });
    });
  });

  it("takes over kv tables that kv mode created under its own version (meta.kv_schema_version), keeping their rows", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`migrate-kv-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const raw = state.storage.sql;
      dropAllTables(raw);
      const sql = sqlOver(raw);
      const kvVersion = MIGRATIONS.find((m) => m.statements.some((s) => s.includes("kv_pages")))!.version;
      expect(migrate(sql, MIGRATIONS.filter((m) => m.version < kvVersion))).toEqual(MIGRATIONS.filter((m) => m.version < kvVersion).map((m) => m.version));
      // What kv mode's own migration (kv_schema_version 1) left in such a database.
      for (const statement of MIGRATIONS.find((m) => m.version === kvVersion)!.statements) raw.exec(statement);
      raw.exec("INSERT INTO meta (key, value) VALUES ('kv_schema_version', '1')");
      raw.exec(`INSERT INTO kv_state (key, value) VALUES ('settings', '{"blockSize":256}')`);
      raw.exec("INSERT INTO kv_tokens (chunk, tokens) VALUES (0, ?)", Int32Array.of(1, 2, 3).buffer);

      expect(migrate(sql)).toEqual(MIGRATIONS.filter((m) => m.version >= kvVersion).map((m) => m.version));
      expect(raw.exec<{ value: string }>("SELECT value FROM kv_state WHERE key = 'settings'").one().value).toBe('{"blockSize":256}');
      expect([...new Int32Array(raw.exec<{ tokens: ArrayBuffer }>("SELECT tokens FROM kv_tokens WHERE chunk = 0").one().tokens)]).toEqual([1, 2, 3]);
      expect(migrate(sql)).toEqual([]);
    });
  });

  it("gives a fresh database every table, kv mode's included, in one migration run", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`fresh-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name);
      for (const t of ["meta", "messages", "segments", "episodes", "schedule", "kv_pages", "kv_tokens", "kv_state", "kv_rebuilds"]) expect(tables).toContain(t);
      expect(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value).toBe(String(SCHEMA_VERSION));
    });
  });

  it("refuses a database from a newer build", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`newer-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'schema_version'", String(SCHEMA_VERSION + 1));
      expect(() => migrate(sqlOver(state.storage.sql))).toThrow(/newer than this build/);
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'schema_version'", String(SCHEMA_VERSION));
    });
  });
});
