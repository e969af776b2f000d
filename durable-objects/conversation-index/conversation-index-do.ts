// The index of conversations, per tenant. A ConversationDO cannot be listed
// (a Durable Object namespace has no "list"), so the Worker records each
// conversation it creates or uses here, and GET /v1/conversations and
// GET /metrics read it back.
//
// One object holds the index (named by CONVERSATION_INDEX_NAME); rows carry
// the tenant, so listing is per tenant and metrics can sum over all. Writes
// are one small upsert per conversation first seen by an isolate (the Worker
// memoises recent ids, worker/conversations/conversation-index.ts), so the
// single object sees about one write per new conversation, not per turn.
// Shard by tenant (idFromName(tenant)) if that ever becomes a hotspot.
import { DurableObject } from "cloudflare:workers";
import { sqlOver, type Sql } from "../storage/sql";
import { MAX_INDEX_PAGE, type ConversationIndexApi, type IndexedConversation } from "./conversation-index-api";

/** The index reads nothing from the environment. */
type IndexEnv = Record<string, unknown>;

export class ConversationIndexDO extends DurableObject<IndexEnv> implements ConversationIndexApi {
  private readonly sql: Sql;

  constructor(ctx: DurableObjectState, env: IndexEnv) {
    super(ctx, env);
    this.sql = sqlOver(ctx.storage.sql);
    this.sql.run`CREATE TABLE IF NOT EXISTS conversations (
      tenant TEXT NOT NULL, id TEXT NOT NULL, first_seen_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
      PRIMARY KEY (tenant, id))`;
    this.sql.run`CREATE INDEX IF NOT EXISTS conversations_by_recency ON conversations (tenant, last_seen_at DESC)`;
  }

  async record(tenant: string, id: string, at: number): Promise<void> {
    if (typeof tenant !== "string" || typeof id !== "string" || !id || !Number.isFinite(at)) throw new Error("invalid_request: record(tenant, id, at) needs strings and a finite time");
    this.sql.run`INSERT INTO conversations (tenant, id, first_seen_at, last_seen_at) VALUES (${tenant}, ${id}, ${at}, ${at})
      ON CONFLICT (tenant, id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)`;
  }

  async forget(tenant: string, id: string): Promise<boolean> {
    return this.sql.run`DELETE FROM conversations WHERE tenant = ${tenant} AND id = ${id}` > 0;
  }

  async list(tenant: string | null, limit: number): Promise<{ data: IndexedConversation[]; total: number }> {
    const n = Math.max(1, Math.min(MAX_INDEX_PAGE, Math.floor(limit) || 1));
    if (tenant === null) {
      const data = this.sql.all<IndexedConversation>`SELECT tenant, id, first_seen_at, last_seen_at FROM conversations ORDER BY last_seen_at DESC, id LIMIT ${n}`;
      const total = this.sql.first<{ n: number }>`SELECT count(*) AS n FROM conversations`?.n ?? 0;
      return { data, total };
    }
    const data = this.sql.all<IndexedConversation>`SELECT tenant, id, first_seen_at, last_seen_at FROM conversations WHERE tenant = ${tenant} ORDER BY last_seen_at DESC, id LIMIT ${n}`;
    const total = this.sql.first<{ n: number }>`SELECT count(*) AS n FROM conversations WHERE tenant = ${tenant}`?.n ?? 0;
    return { data, total };
  }
}
