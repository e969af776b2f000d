// What a chat turn's Worker needs of the Durable Object's plan: the
// selection's figures, and the selected messages as the backend reads them,
// serialised once here as a JSON array. One string crosses the RPC boundary
// instead of hundreds of message objects with provenance (structured clone
// of a 250-message plan measured ≈ 0.25 ms in workerd; the string costs
// ≈ 0.03 ms to write). The /context preview keeps the full selection.
import type { ContextMessage, TurnPlan } from "./conversation-api";

export interface SentPlan {
  /** How many of the request's messages were new. */
  new_messages: number;
  /** The context as OpenAI chat messages (role, content, name, tool_call_id, tool_calls), a JSON array: the upstream body's `messages`. */
  messages_json: string;
  message_count: number;
  matched_episode: number | null;
  budget_tokens: number;
  used_tokens: number;
}

/** A context message as the backend reads it (provenance and token counts stay with epikv). */
export function backendMessage(m: ContextMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
  return out;
}

export function sentPlan(plan: TurnPlan): SentPlan {
  const c = plan.context;
  return {
    new_messages: plan.new_messages,
    messages_json: JSON.stringify(c.messages.map(backendMessage)),
    message_count: c.messages.length,
    matched_episode: c.matched_episode,
    budget_tokens: c.budget_tokens,
    used_tokens: c.used_tokens,
  };
}
