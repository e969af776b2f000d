// The Worker's side of the conversation index (durable-objects/conversation-index/):
// which tenant a request belongs to, the index stub, and a middleware that
// records every conversation a successful response names.
//
// Recording is observed, not wired into each route: any 2xx answer carrying
// X-Conversation-Id (POST /v1/conversations, chat turns) or to a
// /v1/conversations/{id}[/…] path records that id,
// and a 200 DELETE /v1/conversations/{id} forgets it. The write runs under
// waitUntil, after the response left, so it never adds latency; an isolate
// remembers the ids it recorded in the last RECORD_AGAIN_MS and skips them.
import type { Context, MiddlewareHandler } from "hono";
import { CONVERSATION_INDEX_NAME, type ConversationIndexApi } from "../../durable-objects/conversation-index/conversation-index-api";
import type { Env } from "../env";
import { waitUntilOf } from "../http/wait-until";
import { requestPathname } from "../http/request-path";

/** How long an isolate trusts its own note that it recorded an id (refreshes last_seen_at at most this often). */
export const RECORD_AGAIN_MS = 60_000;
const MEMO_LIMIT = 10_000;

/** The tenant authenticate() (worker/auth) set for this request, or null on public routes. */
export function authenticatedTenant(c: Context): string | null {
  const v = (c.var as Record<string, unknown> | undefined)?.tenant;
  return typeof v === "string" && v ? v : null;
}

/**
 * The request's tenant. Every route that reads or writes tenant data runs
 * after authenticate(), so a missing tenant is a bug: fail closed rather than
 * fall back to a shared tenant.
 */
export function tenantOf(c: Context): string {
  const tenant = authenticatedTenant(c);
  if (tenant === null) throw new Error("no authenticated tenant on a route that needs one");
  return tenant;
}

export function conversationIndex(env: Env): ConversationIndexApi {
  const ns = env.CONVERSATION_INDEX;
  return ns.get(ns.idFromName(CONVERSATION_INDEX_NAME)) as unknown as ConversationIndexApi;
}

const recentlyRecorded = new Map<string, number>();

function shouldRecord(key: string, now: number): boolean {
  const at = recentlyRecorded.get(key);
  if (at !== undefined && now - at < RECORD_AGAIN_MS) return false;
  if (recentlyRecorded.size >= MEMO_LIMIT) recentlyRecorded.clear();
  recentlyRecorded.set(key, now);
  return true;
}

const CONVERSATION_PATH = /^\/v1\/conversations\/([^/]+)(\/[^/]+)?$/;

export function conversationIndexRecorder(): MiddlewareHandler<{ Bindings: Env }> {
  return async function recordConversations(c, next) {
    await next();
    const status = c.res.status;
    if (status < 200 || status >= 300) return;
    const tenant = authenticatedTenant(c);
    if (tenant === null) return; // public route
    const path = requestPathname(c.req.raw);
    const inPath = CONVERSATION_PATH.exec(path);
    const pathId = inPath ? decodeURIComponent(inPath[1]!) : null;
    if (c.req.method === "DELETE" && pathId !== null && !inPath![2]) {
      const id = pathId;
      recentlyRecorded.delete(`${tenant}\u0000${id}`);
      waitUntilOf(c)(conversationIndex(c.env).forget(tenant, id).catch((err) => console.error("epikv: conversation index forget failed:", err)));
      return;
    }
    // Conversations created before the index existed are picked up by their next successful use.
    const id = c.res.headers.get("x-conversation-id") ?? pathId;
    const now = Date.now();
    if (!id || !shouldRecord(`${tenant}\u0000${id}`, now)) return;
    waitUntilOf(c)(conversationIndex(c.env).record(tenant, id, now).catch((err) => {
      recentlyRecorded.delete(`${tenant}\u0000${id}`);
      console.error("epikv: conversation index record failed:", err);
    }));
  };
}
