// What goes to the backend for a turn: the client's sampling parameters,
// the model chosen by precedence, and — instead of the client's messages —
// exactly the context the Durable Object selected under the budget.
import type { ContextMessage, ContextSelection, ConversationSettings } from "../../durable-objects/conversation-api";
import type { ChatRequest } from "../validation/chat-request";
import type { JsonObject } from "../validation/fields";

/** Model names a client may send to mean "whatever this conversation/deployment uses". */
export const EPIKV_MODEL_ALIASES = ["epikv", "default"];

/**
 * Precedence: an explicit model in the request, then the conversation's
 * setting, then BACKEND_MODEL; undefined lets the backend use its default
 * (llama.cpp server and Ollama-style single-model servers accept that).
 */
export function chooseModel(requested: string | undefined, settings: Partial<ConversationSettings> | undefined, defaultModel: string | undefined): string | undefined {
  if (requested && !EPIKV_MODEL_ALIASES.includes(requested)) return requested;
  return settings?.model || defaultModel || undefined;
}

export function buildUpstreamBody(req: ChatRequest, context: ContextSelection, model: string | undefined): JsonObject {
  const body: JsonObject = { ...req.passthrough };
  if (model !== undefined) body.model = model;
  body.messages = context.messages.map(upstreamMessage);
  body.stream = req.stream;
  // Usage is always requested: its prompt_tokens calibrates the token estimator (commitTurn).
  if (req.stream) body.stream_options = { include_usage: true };
  return body;
}

/** A context message as the backend reads it (provenance and token counts stay at the edge). */
function upstreamMessage(m: ContextMessage): JsonObject {
  const out: JsonObject = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
  return out;
}
