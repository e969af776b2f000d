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
import { openAiCompatibleBackend } from "../backend/openai-compatible-backend";
import { completeTurn, prepareTurn, serverTiming, turnHeaders } from "../chat/chat-turn";
import { streamTurn } from "../chat/stream-turn";

export const chatCompletionsRoute = new Hono<{ Bindings: Env }>().post("/v1/chat/completions", async (c) => {
  const request = parseChatRequest(await readJsonBody(c.req.raw, maxBodyBytes(c.env)));
  const id = conversationIdOf(c.req.header("x-conversation-id"), request.conversationId);
  const config = backendConfig(c.env);
  const backend = openAiCompatibleBackend(config);
  const waitUntil = waitUntilOf(c);
  const turn = await prepareTurn(conversationStub(c.env, id), id, request, config.defaultModel);
  const headers = turnHeaders(turn);
  if (request.stream) return streamTurn(turn, backend, waitUntil, { ...headers, "server-timing": serverTiming(turn) });
  // Under waitUntil so a client that hangs up mid-call still gets its turn recorded.
  const done = completeTurn(turn, backend);
  waitUntil(done.catch(() => {}));
  const completion = await done;
  return c.json(completion, 200, { ...headers, "server-timing": serverTiming(turn) });
});

function conversationIdOf(header: string | undefined, bodyId: string | undefined): string {
  const fromHeader = header === undefined || header === "" ? undefined : parseConversationId(header, "X-Conversation-Id");
  if (fromHeader && bodyId && fromHeader !== bodyId) {
    throw invalidRequest(`X-Conversation-Id (${fromHeader}) and conversation_id (${bodyId}) name different conversations`, "conversation_id", "conflicting_conversation_id");
  }
  return fromHeader ?? bodyId ?? newConversationId();
}
