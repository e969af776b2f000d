// GET /v1/conversations: the tenant's conversations, most recently used
// first, each with its counters (one Durable Object read per listed
// conversation). The list comes from the conversation index
// (durable-objects/conversation-index/), since a namespace cannot be listed.
import { Hono } from "hono";
import type { Env } from "../env";
import { invalidRequest } from "../http/api-error";
import { conversationStub } from "../conversations/conversation-stub";
import { conversationIndex, tenantOf } from "../conversations/conversation-index";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_LIST_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) throw invalidRequest(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${JSON.stringify(raw)}`, "limit");
  return n;
}

export const conversationListRoute = new Hono<{ Bindings: Env }>().get("/v1/conversations", async (c) => {
  const limit = parseLimit(c.req.query("limit"));
  const tenant = tenantOf(c);
  const { data, total } = await conversationIndex(c.env).list(tenant, limit);
  const infos = await Promise.all(data.map((row) => conversationStub(c.env, tenant, row.id).info()));
  const listed = data.flatMap((row, i) => {
    const info = infos[i];
    // An id whose object holds nothing (deleted by another path) is left out.
    return info ? [{ object: "conversation" as const, ...info, last_seen_at: row.last_seen_at }] : [];
  });
  return c.json({ object: "list", tenant, data: listed, total });
});
