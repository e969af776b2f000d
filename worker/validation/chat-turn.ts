// One validation path for both chat routes (/v1/chat/completions and
// /v1/kv/chat/completions), so what one accepts the other cannot drift from:
// body shape, message limits, model name, conversation id (header vs body),
// Idempotency-Key. Checks run in the same order on both routes, so the same
// malformed request gets the same 4xx on either (test/worker/property-chat-routes.test.ts).
// What is mode-specific comes after: the kv route's `kv` settings and the
// parameters kv decoding cannot honour (KV_PARAMETERS).
import type { KvModeSettings } from "../../durable-objects/kv/kv-mode";
import { invalidRequest } from "../http/api-error";
import { checkChatLimits } from "../limits/request-limits";
import { parseChatRequest, type ChatRequest } from "./chat-request";
import { newConversationId, parseConversationId } from "./conversation-id";
import { parseIdempotencyKey } from "./conversation-requests";
import { requireObject } from "./fields";
import { parseKvSettings } from "./kv-settings";

export interface ChatTurnInput {
  request: ChatRequest;
  /** The conversation: X-Conversation-Id, else conversation_id, else a new id. */
  conversationId: string;
  idempotencyKey: string | undefined;
  /** kv route only: the request's `kv` settings. */
  kv?: Partial<KvModeSettings>;
}

export interface ChatTurnHeaders {
  conversationId: string | undefined;
  idempotencyKey: string | undefined;
}

/**
 * Parameters kv decoding uses (durable-objects/kv/kv-durable.ts, KvTurnRequest),
 * and the labels it accepts without effect. Anything else is refused on the
 * kv route: its decoder would otherwise ignore it silently (docs/kv-mode.md).
 */
export const KV_PARAMETERS = ["max_tokens", "max_completion_tokens", "temperature", "seed", "user", "metadata", "store"] as const;

export function parseChatTurn(body: unknown, headers: ChatTurnHeaders, maxMessages: number, mode: "context" | "kv"): ChatTurnInput {
  const obj = requireObject(body, null);
  const { kv: rawKv, ...openai } = obj;
  if (mode === "context" && rawKv !== undefined) throw invalidRequest("kv settings apply to /v1/kv/chat/completions only", "kv", "unknown_parameter");
  const request = parseChatRequest(openai);
  checkChatLimits(request.messages, maxMessages);
  const conversationId = conversationIdOf(headers.conversationId, request.conversationId);
  const idempotencyKey = parseIdempotencyKey(headers.idempotencyKey);
  if (mode === "context") return { request, conversationId, idempotencyKey };

  const kv = parseKvSettings(rawKv);
  for (const [key, value] of Object.entries(request.passthrough)) {
    if (value !== null && !(KV_PARAMETERS as readonly string[]).includes(key)) {
      throw invalidRequest(`${key} is not supported in kv mode (it decodes with ${KV_PARAMETERS.slice(0, 4).join(", ")}); omit it or use /v1/chat/completions`, key, "unsupported_parameter");
    }
  }
  // kv mode decodes an answer to the request's last turn: it must not end with the assistant.
  if (request.messages.at(-1)?.role === "assistant") {
    throw invalidRequest("kv mode answers the messages after the last assistant message; the request ends with an assistant message", "messages");
  }
  return { request, conversationId, idempotencyKey, kv };
}

function conversationIdOf(header: string | undefined, bodyId: string | undefined): string {
  const fromHeader = header === undefined || header === "" ? undefined : parseConversationId(header, "X-Conversation-Id");
  if (fromHeader && bodyId && fromHeader !== bodyId) {
    throw invalidRequest(`X-Conversation-Id (${fromHeader}) and conversation_id (${bodyId}) name different conversations`, "conversation_id", "conflicting_conversation_id");
  }
  return fromHeader ?? bodyId ?? newConversationId();
}
