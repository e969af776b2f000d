import { describe, expect, it } from "vitest";
import { MIGRATIONS, pendingMigrations, SCHEMA_VERSION } from "../../durable-objects/conversation/schema";
import { chunkRows, insertStatement, rowsPerStatement } from "../../durable-objects/storage/sql-batch";
import { mergeSettings, DEFAULT_SETTINGS } from "../../durable-objects/conversation/settings";
import { conversationErrorCode } from "../../durable-objects/conversation/conversation-api";

describe("schema migrations (pure part; the SQLite run is in test/worker/conversation-do-migration.test.ts)", () => {
  it("SCHEMA_VERSION is the last migration", () => {
    expect(MIGRATIONS[MIGRATIONS.length - 1]!.version).toBe(SCHEMA_VERSION);
  });
  it("runs everything on a fresh database and only the newer ones on an old one", () => {
    expect(pendingMigrations(0).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(pendingMigrations(1).map((m) => m.version)).toEqual(MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version));
    expect(pendingMigrations(SCHEMA_VERSION)).toEqual([]);
  });
  it("refuses a database written by a newer build, and gaps in numbering", () => {
    expect(() => pendingMigrations(SCHEMA_VERSION + 1)).toThrow(/newer/);
    expect(() => pendingMigrations(0, [{ version: 1, description: "", statements: [] }, { version: 3, description: "", statements: [] }])).toThrow(/consecutive/);
    expect(() => pendingMigrations(-1)).toThrow(RangeError);
  });
  it("migrations only add: no DROP, no DELETE", () => {
    for (const m of MIGRATIONS) for (const s of m.statements) expect(s).not.toMatch(/\b(DROP|DELETE)\b/i);
  });
});

describe("batched inserts under the 100-parameter cap", () => {
  it("chunks rows so every statement binds at most 100 values", () => {
    expect(rowsPerStatement(13)).toBe(7);
    const chunks = chunkRows(Array.from({ length: 50 }, (_, i) => i), 13);
    expect(chunks.map((c) => c.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(chunks.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(insertStatement("t", ["a", "b"], 2)).toBe("INSERT INTO t (a,b) VALUES (?,?),(?,?)");
    expect(() => rowsPerStatement(101)).toThrow(RangeError);
    expect(() => rowsPerStatement(0)).toThrow(RangeError);
  });
});

describe("settings", () => {
  it("merges valid updates and names the bad field otherwise", () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { budget_tokens: 1000, model: "m" })).toMatchObject({ budget_tokens: 1000, model: "m", episodes: 4 });
    let error: unknown;
    try {
      mergeSettings(DEFAULT_SETTINGS, { episodes: 0 });
    } catch (e) {
      error = e;
    }
    expect(conversationErrorCode(error)).toBe("invalid_request");
    expect(String(error)).toMatch(/episodes/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { bogus: 1 } as never)).toThrow(/unknown setting/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { window: 2.5 })).toThrow(/window/);
  });
});
