// POST /v1/chat/completions: OpenAI Chat Completions over a conversation.
// The conversation is named by the X-Conversation-Id header or the
// conversation_id body field; without either, a new one is created and its
// id returned in the X-Conversation-Id response header.
import { Hono } from "hono";
import type { Env } from "../env";
import { waitUntilOf } from "../http/wait-until";
import { readChatTurn } from "../chat/read-chat-turn";
import { conversationStub } from "../conversations/conversation-stub";
import { backendConfig } from "../backend/backend-config";
import { completeTurn, abandonTurn, prepareTurn, serverTiming, turnHeaders } from "../chat/chat-turn";
import { streamTurn } from "../chat/stream-turn";
import { replayResponse } from "../chat/turn-replay";
import { tenantOf } from "../conversations/conversation-index";
import { pooledBackend } from "../backend/pool-backend";
import { noteBackendUsage } from "../metrics/http-metrics";
import { requestArrival } from "../http/request-path";

export const chatCompletionsRoute = new Hono<{ Bindings: Env }>().post("/v1/chat/completions", async (c) => {
  // The same checks, in the same order, as the kv route (worker/validation/chat-turn.ts).
  const { request, conversationId: id, idempotencyKey } = await readChatTurn(c, "context");
  const config = backendConfig(c.env);
  const waitUntil = waitUntilOf(c);
  const tenant = tenantOf(c);
  const leaseMs = config.timeoutMs * 3 + 60_000;
  // From here the turn holds its conversation (turn queue): it runs to the end under waitUntil even if
  // the client hangs up, or its ticket would hold up later turns until the lease ran out.
  const serving = (async () => {
    const started = await prepareTurn(conversationStub(c.env, tenant, id), id, request, config.defaultModel, { idempotencyKey, leaseMs, arrivedAt: requestArrival(c) });
    if (started.kind === "replay") {
      if (!request.stream) noteBackendUsage(c, (started.response.completion as { usage?: unknown }).usage);
      return replayResponse(started.response, request.stream, request.includeUsage);
    }
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
    const done = completeTurn(turn, backend);
    waitUntil(done.catch(() => {}));
    const completion = await done;
    noteBackendUsage(c, completion.usage);
    return c.json(completion, 200, { ...turnHeaders(turn), "server-timing": serverTiming(turn) });
  })();
  waitUntil(serving.catch(() => {}));
  return serving;
});
