// The answer to a retried Idempotency-Key: the first turn's stored result,
// as JSON or — for a streaming request — as one content chunk, a finish
// chunk and [DONE]. Marked with `x-epikv-idempotent-replay: true`.
import type { StoredTurnResponse } from "../../durable-objects/conversation/turn-api";
import { SSE_HEADERS } from "./stream-turn";

export function replayResponse(stored: StoredTurnResponse, stream: boolean, includeUsage: boolean): Response {
  const headers = { ...stored.headers, "x-epikv-idempotent-replay": "true" };
  const c = stored.completion as { id?: string; created?: number; model?: string; choices?: { message?: unknown; finish_reason?: string }[]; usage?: unknown };
  if (!stream) return new Response(JSON.stringify(c), { status: 200, headers: { ...headers, "content-type": "application/json" } });
  const choice = c.choices?.[0];
  const base = { id: c.id, object: "chat.completion.chunk", created: c.created, model: c.model };
  const events = [
    { ...base, choices: [{ index: 0, delta: choice?.message ?? { role: "assistant", content: "" }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? "stop" }] },
    ...(includeUsage && c.usage ? [{ ...base, choices: [], usage: c.usage }] : []),
  ];
  const body = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}
