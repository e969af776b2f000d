// One chat turn, the flow of durable-objects/conversation-api.ts:
//   info + planTurn (both read-only, sent together) → backend → commitTurn.
// commitTurn runs only after the backend's reply is complete, so a failed
// upstream call writes nothing — not even the conversation of a first turn:
// a conversation that did not exist is created (configure) only once the
// backend has answered. Both paths run under ctx.waitUntil: a client that
// disconnects does not stop the turn from being recorded.
import type { ChatMessage, ConversationApi, TurnPlan, Usage } from "../../durable-objects/conversation-api";
import type { ChatBackend } from "../backend/chat-backend";
import { chooseModel, buildUpstreamBody } from "./upstream-request";
import { replyOf, toUsage } from "./reply-accumulator";
import type { ChatRequest } from "../validation/chat-request";
import type { JsonObject } from "../validation/fields";

export interface PreparedTurn {
  conversationId: string;
  stub: ConversationApi;
  request: ChatRequest;
  plan: TurnPlan;
  /** False for a conversation this turn will create. */
  existed: boolean;
  upstreamBody: JsonObject;
  /** Wall time of each step in ms, for the Server-Timing header (see turnTimer). */
  timings: Record<string, number>;
}

/**
 * Inside workerd the clock only advances across I/O, which is exactly what
 * these steps are (RPC to the object, HTTP to the backend), so Date.now()
 * around them measures them; pure compute in between reads as 0.
 */
async function timed<T>(timings: Record<string, number>, step: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    timings[step] = (timings[step] ?? 0) + (Date.now() - t0);
  }
}

export async function prepareTurn(stub: ConversationApi, conversationId: string, request: ChatRequest, defaultModel: string | undefined): Promise<PreparedTurn> {
  const options = request.budgetTokens === undefined ? undefined : { budget_tokens: request.budgetTokens };
  // Sent together: one round trip to the object instead of two.
  const timings: Record<string, number> = {};
  const [info, plan] = await timed(timings, "plan", () => Promise.all([stub.info(), stub.planTurn(request.messages, options)]));
  const model = chooseModel(request.model, info?.settings, defaultModel);
  return { conversationId, stub, request, plan, existed: info !== null, upstreamBody: buildUpstreamBody(request, plan.context, model), timings };
}

/** Records the turn once the backend's reply is complete (creating the conversation first if this turn is its first). */
export async function commitReply(turn: PreparedTurn, reply: ChatMessage, usage: Usage | undefined): Promise<void> {
  await timed(turn.timings, "commit", async () => {
    if (!turn.existed) await turn.stub.configure(turn.conversationId, {});
    await turn.stub.commitTurn(turn.request.messages, reply, usage, turn.plan.context.used_tokens);
  });
}

/** Headers every chat response carries (the id lets clients continue a conversation epikv created). */
export function turnHeaders(turn: PreparedTurn): Record<string, string> {
  const h: Record<string, string> = {
    "x-conversation-id": turn.conversationId,
    "x-epikv-context-tokens": String(turn.plan.context.used_tokens),
    "x-epikv-budget-tokens": String(turn.plan.context.budget_tokens),
    "x-epikv-context-messages": String(turn.plan.context.messages.length),
  };
  if (turn.plan.context.matched_episode !== null) h["x-epikv-matched-episode"] = String(turn.plan.context.matched_episode);
  return h;
}

/** Non-streaming turn: the backend's completion, after the turn is committed. */
export async function completeTurn(turn: PreparedTurn, backend: ChatBackend): Promise<JsonObject> {
  const completion = await timed(turn.timings, "backend", () => backend.complete(turn.upstreamBody));
  await commitReply(turn, replyOf(completion), toUsage(completion.usage));
  return completion;
}

/** Server-Timing (W3C) of the steps done so far, e.g. "plan;dur=3, backend;dur=12, commit;dur=2". */
export function serverTiming(turn: PreparedTurn): string {
  return Object.entries(turn.timings)
    .map(([step, ms]) => `${step};dur=${ms}`)
    .join(", ");
}
