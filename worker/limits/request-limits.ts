// Limits on one chat request beyond what the schema checks: how many
// messages it carries and how long each is. The body-size limit is enforced
// while reading (worker/http/json-body.ts, 413); budget ranges and id formats
// by the validators (worker/validation/, 400). Each violation is a 400 whose
// `param` names the field and whose `code` says which limit.
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { MAX_MESSAGE_BYTES } from "../../durable-objects/conversation/schema";
import { invalidRequest } from "../http/api-error";
import { MAX_IMPORT_MESSAGES } from "../validation/conversation-requests";

/**
 * As many as one import call: OpenAI clients resend the whole history every
 * turn, and long histories are what epikv is for (the body limit bounds the bytes).
 */
export const DEFAULT_MAX_MESSAGES_PER_REQUEST = MAX_IMPORT_MESSAGES;

export function maxMessagesPerRequest(env: { MAX_MESSAGES_PER_REQUEST?: string }): number {
  const n = Number(env.MAX_MESSAGES_PER_REQUEST);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_MESSAGES_PER_REQUEST;
}

const encoder = new TextEncoder();

/** UTF-8 length, without encoding strings that cannot be over the limit (3 bytes per UTF-16 unit at most). */
function overBytes(text: string, limit: number): boolean {
  return text.length * 3 > limit && encoder.encode(text).length > limit;
}

export function checkChatLimits(messages: readonly ChatMessage[], maxMessages: number): void {
  if (messages.length > maxMessages) {
    throw invalidRequest(`at most ${maxMessages} messages per chat request (got ${messages.length}); import long histories with POST /v1/conversations/{id}/messages`, "messages", "too_many_messages");
  }
  messages.forEach((m, i) => {
    if (overBytes(m.content, MAX_MESSAGE_BYTES)) {
      throw invalidRequest(`messages[${i}].content is over ${MAX_MESSAGE_BYTES} bytes (UTF-8)`, `messages[${i}].content`, "message_too_long");
    }
  });
}
