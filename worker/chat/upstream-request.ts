// What goes to the backend for a turn: the client's sampling parameters,
// the model chosen by precedence, and — instead of the client's messages —
// exactly the context the Durable Object selected under the budget.
import type { ConversationSettings } from "../../durable-objects/conversation/conversation-api";
import type { SentPlan } from "../../durable-objects/conversation/sent-plan";
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

/**
 * The backend's request body as JSON text: the client's fields and the
 * model, with `messages` spliced in as the Durable Object serialised them
 * (durable-objects/conversation/sent-plan.ts), so the context is never parsed or
 * re-serialised here.
 */
export function buildUpstreamBody(req: ChatRequest, plan: SentPlan, model: string | undefined): string {
  const fields: JsonObject = { ...req.passthrough };
  if (model !== undefined) fields.model = model;
  fields.stream = req.stream;
  // Usage is always requested: its prompt_tokens calibrates the token estimator (commitTurn).
  if (req.stream) fields.stream_options = { include_usage: true };
  // `fields` always has "stream", so its JSON ends in "}" after at least one member.
  return `${JSON.stringify(fields).slice(0, -1)},"messages":${plan.messages_json}}`;
}
