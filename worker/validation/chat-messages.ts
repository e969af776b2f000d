// Validates OpenAI chat messages and flattens them to the text-only
// ChatMessage the Durable Object stores. Content may be a string or an array
// of content parts; text parts are joined, any other part (image_url,
// input_audio, file) is refused because context mode forwards text only.
import type { ChatMessage, Role } from "../../durable-objects/conversation/conversation-api";
import { invalidRequest } from "../http/api-error";
import { describe, optionalString, requireObject } from "./fields";

export const ROLES: readonly Role[] = ["system", "user", "assistant", "tool"];
/** OpenAI's newer alias for system; stored as system. */
/** A Map, not an object literal: a role such as "constructor" must not find Object.prototype's. */
const ROLE_ALIASES: ReadonlyMap<string, Role> = new Map([["developer", "system"]]);

export function parseMessages(value: unknown, param = "messages", options: { allowEmpty?: boolean } = {}): ChatMessage[] {
  if (!Array.isArray(value)) throw invalidRequest(`${param} must be an array of messages, got ${describe(value)}`, param, "invalid_type");
  if (value.length === 0 && !options.allowEmpty) throw invalidRequest(`${param} must contain at least one message`, param, "empty_array");
  return value.map((m, i) => parseMessage(m, `${param}[${i}]`));
}

export function parseMessage(value: unknown, param: string): ChatMessage {
  const obj = requireObject(value, param);
  const rawRole = obj.role;
  if (typeof rawRole !== "string") throw invalidRequest(`${param}.role is required and must be a string`, `${param}.role`, "invalid_type");
  const role = ROLE_ALIASES.get(rawRole) ?? (ROLES.includes(rawRole as Role) ? (rawRole as Role) : undefined);
  if (!role) {
    throw invalidRequest(`${param}.role must be one of ${[...ROLES, ...ROLE_ALIASES.keys()].join(", ")}; got "${rawRole}"`, `${param}.role`, "invalid_value");
  }
  const toolCalls = obj.tool_calls;
  if (toolCalls !== undefined && toolCalls !== null && (!Array.isArray(toolCalls) || role !== "assistant")) {
    throw invalidRequest(`${param}.tool_calls must be an array on an assistant message`, `${param}.tool_calls`, "invalid_value");
  }
  const content = flattenContent(obj.content, `${param}.content`, role === "assistant" && Array.isArray(toolCalls));
  const message: ChatMessage = { role, content };
  const name = optionalString(obj, "name", `${param}.`);
  if (name !== undefined) message.name = name;
  const toolCallId = optionalString(obj, "tool_call_id", `${param}.`);
  if (role === "tool" && !toolCallId) throw invalidRequest(`${param}.tool_call_id is required on tool messages`, `${param}.tool_call_id`, "missing_required_parameter");
  if (toolCallId !== undefined) message.tool_call_id = toolCallId;
  if (Array.isArray(toolCalls)) message.tool_calls = toolCalls;
  return message;
}

/** String content as is; an array of parts joined by newlines; null only where OpenAI allows it (assistant with tool_calls). */
export function flattenContent(content: unknown, param: string, nullable: boolean): string {
  if (typeof content === "string") return content;
  if ((content === null || content === undefined) && nullable) return "";
  if (content === null || content === undefined) throw invalidRequest(`${param} is required`, param, "missing_required_parameter");
  if (!Array.isArray(content)) throw invalidRequest(`${param} must be a string or an array of content parts, got ${describe(content)}`, param, "invalid_type");
  const texts: string[] = [];
  content.forEach((part, i) => {
    const p = requireObject(part, `${param}[${i}]`);
    if (p.type !== "text") {
      throw invalidRequest(
        `${param}[${i}] has type "${String(p.type)}"; epikv context mode accepts only text content parts`,
        `${param}[${i}].type`,
        "unsupported_content_type",
      );
    }
    if (typeof p.text !== "string") throw invalidRequest(`${param}[${i}].text must be a string`, `${param}[${i}].text`, "invalid_type");
    texts.push(p.text);
  });
  return texts.join("\n");
}
