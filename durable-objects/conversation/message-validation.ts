// Validation of messages entering a conversation (the Worker validates HTTP
// shapes too; the object re-checks because RPC callers are not only the Worker).
import type { ChatMessage } from "./conversation-api";
import { InvalidConversationRequestError } from "./conversation-api";
import { MAX_MESSAGE_BYTES } from "./schema";

const ROLES = new Set(["system", "user", "assistant", "tool"]);
const encoder = new TextEncoder();

export function validateMessage(m: unknown, where: string): ChatMessage {
  if (typeof m !== "object" || m === null) throw new InvalidConversationRequestError(`${where} must be an object`);
  const { role, content, name, tool_call_id, tool_calls } = m as Record<string, unknown>;
  if (typeof role !== "string" || !ROLES.has(role)) throw new InvalidConversationRequestError(`${where}.role must be one of system, user, assistant, tool`);
  if (typeof content !== "string") throw new InvalidConversationRequestError(`${where}.content must be a string (flatten content parts first)`);
  // Length in UTF-16 units bounds UTF-8 bytes by 3×; encode only when it could be over.
  if (content.length * 3 > MAX_MESSAGE_BYTES && encoder.encode(content).length > MAX_MESSAGE_BYTES) {
    throw new InvalidConversationRequestError(`${where}.content is over ${MAX_MESSAGE_BYTES} bytes`);
  }
  if (name !== undefined && name !== null && typeof name !== "string") throw new InvalidConversationRequestError(`${where}.name must be a string`);
  if (tool_call_id !== undefined && tool_call_id !== null && typeof tool_call_id !== "string") throw new InvalidConversationRequestError(`${where}.tool_call_id must be a string`);
  if (tool_calls !== undefined && tool_calls !== null && !Array.isArray(tool_calls)) throw new InvalidConversationRequestError(`${where}.tool_calls must be an array`);
  if (Array.isArray(tool_calls) && encoder.encode(JSON.stringify(tool_calls)).length > MAX_MESSAGE_BYTES) {
    throw new InvalidConversationRequestError(`${where}.tool_calls is over ${MAX_MESSAGE_BYTES} bytes as JSON`);
  }
  for (const [field, value] of [["name", name], ["tool_call_id", tool_call_id]] as const) {
    if (typeof value === "string" && value.length > 1024) throw new InvalidConversationRequestError(`${where}.${field} is over 1024 characters`);
  }
  const out: ChatMessage = { role: role as ChatMessage["role"], content };
  if (typeof name === "string") out.name = name;
  if (typeof tool_call_id === "string") out.tool_call_id = tool_call_id;
  if (Array.isArray(tool_calls) && tool_calls.length) out.tool_calls = tool_calls;
  return out;
}

export function validateMessages(messages: unknown, { allowEmpty }: { allowEmpty: boolean }): ChatMessage[] {
  if (!Array.isArray(messages)) throw new InvalidConversationRequestError("messages must be an array");
  if (!allowEmpty && messages.length === 0) throw new InvalidConversationRequestError("messages must not be empty");
  return messages.map((m, i) => validateMessage(m, `messages[${i}]`));
}

/** The text a turn's context is chosen for: the new user/tool messages, else the request's last message. */
export function queryText(newMessages: readonly ChatMessage[], request: readonly ChatMessage[]): string {
  const asked = newMessages.filter((m) => m.role === "user" || m.role === "tool").map((m) => m.content);
  if (asked.length) return asked.join("\n");
  for (let i = request.length - 1; i >= 0; i--) if (request[i]!.role === "user") return request[i]!.content;
  return request.length ? request[request.length - 1]!.content : "";
}
