// Conversation ids name Durable Objects (idFromName) and appear in URLs and
// headers, so they are restricted to a URL- and header-safe alphabet.
import { invalidRequest } from "../http/api-error";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function parseConversationId(raw: string, param = "conversation_id"): string {
  if (!ID_PATTERN.test(raw)) {
    throw invalidRequest(
      `${param} must be 1-128 characters of letters, digits, ".", "_", ":" or "-" and start with a letter or digit`,
      param,
      "invalid_conversation_id",
    );
  }
  return raw;
}

/** A fresh id for a conversation the client did not name: "conv_" + 24 random hex digits. */
export function newConversationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "conv_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
