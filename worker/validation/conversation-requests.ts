// Bodies of the /v1/conversations routes: create (id + settings), bulk
// import, context preview; and the query of the message listing.
import type { ChatMessage, ConversationSettings } from "../../durable-objects/conversation/conversation-api";
import { isIdempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH } from "../../durable-objects/conversation/turn-api";
import { invalidRequest } from "../http/api-error";
import { parseMessages } from "./chat-messages";
import { parseConversationId } from "./conversation-id";
import { optionalInt, optionalString, rejectUnknownKeys, requireObject, requireString } from "./fields";

/** Upper bound of messages in one import call (keeps one DO write bounded; import more in several calls). */
export const MAX_IMPORT_MESSAGES = 50_000;
export const MAX_PAGE_LIMIT = 1000;

const SETTING_KEYS = ["budget_tokens", "episodes", "window", "recent_messages", "model", "backend", "history"] as const;

export function parseSettings(value: unknown, param = "settings"): Partial<ConversationSettings> {
  if (value === undefined || value === null) return {};
  const obj = requireObject(value, param);
  rejectUnknownKeys(obj, SETTING_KEYS, `${param}.`);
  const p = `${param}.`;
  const settings: Partial<ConversationSettings> = {};
  const budget = optionalInt(obj, "budget_tokens", 64, 2_000_000, p);
  if (budget !== undefined) settings.budget_tokens = budget;
  const episodes = optionalInt(obj, "episodes", 1, 64, p);
  if (episodes !== undefined) settings.episodes = episodes;
  const window = optionalInt(obj, "window", 1, 64, p);
  if (window !== undefined) settings.window = window;
  const recent = optionalInt(obj, "recent_messages", 0, 1024, p);
  if (recent !== undefined) settings.recent_messages = recent;
  const model = optionalString(obj, "model", p);
  if (model !== undefined) settings.model = model;
  const backend = optionalString(obj, "backend", p);
  if (backend !== undefined) settings.backend = backend;
  const history = optionalString(obj, "history", p);
  if (history !== undefined && history !== "fork" && history !== "strict") throw invalidRequest(`${p}history must be "fork" or "strict", got "${history}"`, `${p}history`);
  if (history !== undefined) settings.history = history as "fork" | "strict";
  return settings;
}

export function parseCreateConversation(body: unknown): { id: string | undefined; settings: Partial<ConversationSettings> } {
  const obj = requireObject(body, null);
  rejectUnknownKeys(obj, ["id", "settings"]);
  const rawId = optionalString(obj, "id");
  return { id: rawId === undefined ? undefined : parseConversationId(rawId, "id"), settings: parseSettings(obj.settings) };
}

export function parseImport(body: unknown): ChatMessage[] {
  const obj = requireObject(body, null);
  rejectUnknownKeys(obj, ["messages"]);
  const messages = parseMessages(obj.messages);
  if (messages.length > MAX_IMPORT_MESSAGES) {
    throw invalidRequest(`at most ${MAX_IMPORT_MESSAGES} messages per import call; split the history into several calls`, "messages", "too_many_messages");
  }
  return messages;
}

export function parseContextRequest(body: unknown): { query: string; budgetTokens: number | undefined } {
  const obj = requireObject(body, null);
  rejectUnknownKeys(obj, ["query", "budget_tokens"]);
  const query = requireString(obj, "query");
  if (query.trim() === "") throw invalidRequest("query must not be empty", "query");
  return { query, budgetTokens: optionalInt(obj, "budget_tokens", 1, 10_000_000) };
}

/** `?after=<seq>&limit=<n>` of GET /v1/conversations/{id}/messages. */
export function parsePageQuery(after: string | undefined, limit: string | undefined): { after: number | undefined; limit: number } {
  const int = (raw: string | undefined, name: string, min: number, max: number): number | undefined => {
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw invalidRequest(`${name} must be an integer between ${min} and ${max}, got "${raw}"`, name);
    return n;
  };
  return { after: int(after, "after", -1, Number.MAX_SAFE_INTEGER), limit: int(limit, "limit", 1, MAX_PAGE_LIMIT) ?? 100 };
}

/** A boolean query flag: absent, "false" or "0" is false; "true", "1" or empty (?flag) is true. */
export function parseFlag(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === "false" || raw === "0") return false;
  if (raw === "" || raw === "true" || raw === "1") return true;
  throw invalidRequest(`${name} must be true or false, got "${raw}"`, name);
}

export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isIdempotencyKey(raw)) throw invalidRequest(`Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, "Idempotency-Key", "invalid_idempotency_key");
  return raw;
}
