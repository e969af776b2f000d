// POST /v1/chat/completions: OpenAI Chat Completions over a conversation.
// The conversation is named by the X-Conversation-Id header or the
// conversation_id body field; without either, a new one is created and its
// id returned in the X-Conversation-Id response header.
import { Hono } from "hono";
import type { Env } from "../env";
import { invalidRequest } from "../http/api-error";
import { readJsonBody } from "../http/json-body";
import { maxBodyBytes } from "../http/body-limit";
import { waitUntilOf } from "../http/wait-until";
import { parseChatRequest } from "../validation/chat-request";
import { newConversationId, parseConversationId } from "../validation/conversation-id";
import { conversationStub } from "../conversations/conversation-stub";
import { backendConfig } from "../backend/backend-config";
import { completeTurn, abandonTurn, prepareTurn, serverTiming, turnHeaders } from "../chat/chat-turn";
import { streamTurn } from "../chat/stream-turn";
import { replayResponse } from "../chat/turn-replay";
import { tenantOf } from "../conversations/conversation-index";
import { backendSpecs, pooledBackend } from "../backend/pool-backend";
import { backendsForModel } from "../backend/pool";
import { EPIKV_MODEL_ALIASES } from "../chat/upstream-request";
import { checkChatLimits, maxMessagesPerRequest } from "../limits/request-limits";
import { parseIdempotencyKey } from "../validation/conversation-requests";

export const chatCompletionsRoute = new Hono<{ Bindings: Env }>().post("/v1/chat/completions", async (c) => {
  const request = parseChatRequest(await readJsonBody(c.req.raw, maxBodyBytes(c.env)));
  checkChatLimits(request.messages, maxMessagesPerRequest(c.env));
  const id = conversationIdOf(c.req.header("x-conversation-id"), request.conversationId);
  const idempotencyKey = parseIdempotencyKey(c.req.header("idempotency-key"));
  const config = backendConfig(c.env);
  // An explicit unknown model is refused before the turn waits for its conversation.
  if (request.model && !EPIKV_MODEL_ALIASES.includes(request.model)) backendsForModel(backendSpecs(c.env), request.model);
  const waitUntil = waitUntilOf(c);
  const tenant = tenantOf(c);
  const leaseMs = config.timeoutMs * 3 + 60_000;
  // From here the turn holds its conversation (turn queue): it runs to the end under waitUntil even if
  // the client hangs up, or its ticket would hold up later turns until the lease ran out.
  const serving = (async () => {
    const started = await prepareTurn(conversationStub(c.env, tenant, id), id, request, config.defaultModel, { idempotencyKey, leaseMs });
    if (started.kind === "replay") return replayResponse(started.response, request.stream, request.includeUsage);
    const turn = started.turn;
    let backend;
    try {
      backend = pooledBackend(c.env, {
        conversationKey: `${tenant}\u0000${id}`,
        model: turn.model,
        pinnedBackend: turn.pinnedBackend,
        onServed: (name) => (turn.servedBy = name),
      });
    } catch (err) {
      await abandonTurn(turn);
      throw err;
    }
    const headers = turnHeaders(turn);
    if (request.stream) return streamTurn(turn, backend, waitUntil, { ...headers, "server-timing": serverTiming(turn) });
    // Under waitUntil so a client that hangs up mid-call still gets its turn recorded.
    const done = completeTurn(turn, backend, waitUntil);
    waitUntil(done.catch(() => {}));
    const completion = await done;
    return c.json(completion, 200, { ...turnHeaders(turn), "server-timing": serverTiming(turn) });
  })();
  waitUntil(serving.catch(() => {}));
  return serving;
});

function conversationIdOf(header: string | undefined, bodyId: string | undefined): string {
  const fromHeader = header === undefined || header === "" ? undefined : parseConversationId(header, "X-Conversation-Id");
  if (fromHeader && bodyId && fromHeader !== bodyId) {
    throw invalidRequest(`X-Conversation-Id (${fromHeader}) and conversation_id (${bodyId}) name different conversations`, "conversation_id", "conflicting_conversation_id");
  }
  return fromHeader ?? bodyId ?? newConversationId();
}
