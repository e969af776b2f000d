// /v1/conversations: create, read, delete, bulk import and page messages,
// list episodes, and preview the context a query would send (no backend call).
import { Hono } from "hono";
import type { Context } from "hono";
import type { ConversationApi } from "../../durable-objects/conversation/conversation-rpc";
import type { Env } from "../env";
import { notFound } from "../http/api-error";
import { readJsonBody } from "../http/json-body";
import { maxBodyBytes } from "../http/body-limit";
import { conversationStub } from "../conversations/conversation-stub";
import { tenantOf } from "../conversations/conversation-index";
import { newConversationId, parseConversationId } from "../validation/conversation-id";
import {
  parseContextRequest,
  parseCreateConversation,
  parseFlag,
  parseIdempotencyKey,
  parseImport,
  parsePageQuery,
} from "../validation/conversation-requests";

type C = Context<{ Bindings: Env }>;

/** The stub of the conversation in the path, or a 404 when it was never created. */
async function existing(c: C): Promise<{ id: string; stub: ConversationApi }> {
  const id = parseConversationId(c.req.param("id") ?? "", "id");
  const stub = conversationStub(c.env, tenantOf(c), id);
  if (!(await stub.info())) throw notFound(`conversation ${id} does not exist; create it with POST /v1/conversations`, "conversation_not_found");
  return { id, stub };
}

async function body(c: C): Promise<unknown> {
  return readJsonBody(c.req.raw, maxBodyBytes(c.env));
}

export const conversationsRoute = new Hono<{ Bindings: Env }>()
  .post("/v1/conversations", async (c) => {
    // An empty body is allowed: a new conversation with default settings.
    const hasBody = c.req.header("content-length") !== "0" && c.req.raw.body !== null;
    const { id: requested, settings } = hasBody ? parseCreateConversation(await body(c)) : { id: undefined, settings: {} };
    const id = requested ?? newConversationId();
    const stub = conversationStub(c.env, tenantOf(c), id);
    const existed = (await stub.info()) !== null;
    const info = await stub.configure(id, settings);
    return c.json({ object: "conversation", ...info }, existed ? 200 : 201, { "x-conversation-id": id });
  })
  .get("/v1/conversations/:id", async (c) => {
    const id = parseConversationId(c.req.param("id"), "id");
    const info = await conversationStub(c.env, tenantOf(c), id).info();
    if (!info) throw notFound(`conversation ${id} does not exist`, "conversation_not_found");
    return c.json({ object: "conversation", ...info });
  })
  .delete("/v1/conversations/:id", async (c) => {
    const id = parseConversationId(c.req.param("id"), "id");
    if (!(await conversationStub(c.env, tenantOf(c), id).destroy())) throw notFound(`conversation ${id} does not exist`, "conversation_not_found");
    return c.json({ id, object: "conversation.deleted", deleted: true });
  })
  .post("/v1/conversations/:id/messages", async (c) => {
    const { id, stub } = await existing(c);
    const messages = parseImport(await body(c));
    const key = parseIdempotencyKey(c.req.header("idempotency-key"));
    const result = await stub.importMessages(messages, key);
    return c.json({ object: "conversation.import", conversation_id: id, ...result }, result.replayed ? 200 : 201);
  })
  .get("/v1/conversations/:id/messages", async (c) => {
    const { id, stub } = await existing(c);
    const { after, limit } = parsePageQuery(c.req.query("after"), c.req.query("limit"));
    const page = await stub.listMessages(after, limit, parseFlag(c.req.query("include_superseded"), "include_superseded"));
    return c.json({ object: "list", conversation_id: id, data: page.messages, next_after: page.next_after });
  })
  .get("/v1/conversations/:id/episodes", async (c) => {
    const { id, stub } = await existing(c);
    return c.json({ object: "list", conversation_id: id, data: await stub.episodes() });
  })
  .post("/v1/conversations/:id/context", async (c) => {
    const { id, stub } = await existing(c);
    const { query, budgetTokens } = parseContextRequest(await body(c));
    // "Exactly what would be sent for this query": the plan of a turn whose new
    // message is the query as a user message (planTurn writes nothing). The
    // query counts against the budget, as it does in the real turn.
    const plan = await stub.planTurn([{ role: "user", content: query }], budgetTokens === undefined ? undefined : { budget_tokens: budgetTokens });
    return c.json({ object: "conversation.context", conversation_id: id, ...plan.context });
  });
