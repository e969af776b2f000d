// POST /v1/chat/completions body: the OpenAI Chat Completions request plus
// epikv's two optional fields (conversation_id, budget_tokens). Sampling
// parameters are type-checked and forwarded to the backend untouched.
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { invalidRequest } from "../http/api-error";
import { parseMessages } from "./chat-messages";
import { parseConversationId } from "./conversation-id";
import { describe, isObject, optionalBoolean, optionalInt, optionalString, requireObject, type JsonObject } from "./fields";

export interface ChatRequest {
  model: string | undefined;
  messages: ChatMessage[];
  stream: boolean;
  /** stream_options.include_usage: the client wants the final usage chunk. */
  includeUsage: boolean;
  conversationId: string | undefined;
  budgetTokens: number | undefined;
  /** Every other field, forwarded to the backend as sent. */
  passthrough: JsonObject;
}

/** Longest model name accepted (Hugging Face repo ids are at most 96 characters). */
export const MAX_MODEL_NAME = 256;

/** Fields consumed here; everything else is passthrough. */
const OWN_FIELDS = ["model", "messages", "stream", "stream_options", "conversation_id", "budget_tokens"];
const NUMBER_FIELDS = ["temperature", "top_p", "frequency_penalty", "presence_penalty", "repetition_penalty", "min_p"];
const INT_FIELDS = ["max_tokens", "max_completion_tokens", "seed", "top_k", "logprobs_top", "top_logprobs"];

export function parseChatRequest(body: unknown): ChatRequest {
  const obj = requireObject(body, null);
  const model = optionalString(obj, "model");
  if (model !== undefined && (model.length === 0 || model.length > MAX_MODEL_NAME)) {
    throw invalidRequest(`model must be 1-${MAX_MODEL_NAME} characters (got ${model.length})`, "model", "invalid_value");
  }
  const messages = parseMessages(obj.messages);
  const stream = optionalBoolean(obj, "stream") ?? false;
  let includeUsage = false;
  if (obj.stream_options !== undefined && obj.stream_options !== null) {
    const so = requireObject(obj.stream_options, "stream_options");
    includeUsage = optionalBoolean(so, "include_usage", "stream_options.") ?? false;
    if (!stream) throw invalidRequest("stream_options is only allowed when stream is true", "stream_options");
  }
  const rawId = optionalString(obj, "conversation_id");
  const conversationId = rawId === undefined ? undefined : parseConversationId(rawId, "conversation_id");
  const budgetTokens = optionalInt(obj, "budget_tokens", 1, 10_000_000);
  const n = optionalInt(obj, "n", 1, 128);
  if (n !== undefined && n !== 1) throw invalidRequest("n must be 1: a conversation records exactly one assistant reply per turn", "n", "unsupported_value");

  const passthrough: JsonObject = {};
  for (const [key, value] of Object.entries(obj)) {
    if (OWN_FIELDS.includes(key) || key === "n") continue;
    if (NUMBER_FIELDS.includes(key) && value !== null && (typeof value !== "number" || !Number.isFinite(value))) {
      throw invalidRequest(`${key} must be a number, got ${describe(value)}`, key, "invalid_type");
    }
    if (INT_FIELDS.includes(key)) optionalInt(obj, key, 0, Number.MAX_SAFE_INTEGER);
    if (key === "stop" && value !== null && typeof value !== "string" && !(Array.isArray(value) && value.every((s) => typeof s === "string"))) {
      throw invalidRequest("stop must be a string or an array of strings", "stop", "invalid_type");
    }
    if (key === "tools" && value !== null && !Array.isArray(value)) throw invalidRequest("tools must be an array", "tools", "invalid_type");
    if (key === "response_format" && value !== null && !isObject(value)) throw invalidRequest("response_format must be an object", "response_format", "invalid_type");
    passthrough[key] = value;
  }
  return { model, messages, stream, includeUsage, conversationId, budgetTokens, passthrough };
}
