// One chat turn, the flow of durable-objects/conversation/conversation-api.ts:
//   beginTurn (settings + plan, read-only) → backend → recordTurn.
// The turn is recorded only after the backend's reply is complete, so a
// failed upstream call writes nothing — not even the conversation of a first
// turn: a conversation that did not exist is created (configure) only once
// the backend has answered. A non-streaming turn answers once its record is
// accepted (the write follows before the object takes another call,
// docs/context-mode.md "Recording"); both paths run under ctx.waitUntil, so
// a client that disconnects does not stop the turn from being recorded.
import type { ChatMessage, Usage } from "../../durable-objects/conversation/conversation-api";
import type { ConversationApi } from "../../durable-objects/conversation/conversation-rpc";
import type { SentPlan } from "../../durable-objects/conversation/sent-plan";
import type { StoredTurnResponse } from "../../durable-objects/conversation/turn-api";
import type { ChatBackend, ChatCompletion } from "../backend/chat-backend";
import { chooseModel, buildUpstreamBody } from "./upstream-request";
import { toApiError } from "../http/api-error";
import { replyOf, toUsage } from "./reply-accumulator";
import type { ChatRequest } from "../validation/chat-request";
import type { JsonObject } from "../validation/fields";

export interface PreparedTurn {
  conversationId: string;
  stub: ConversationApi;
  request: ChatRequest;
  plan: SentPlan;
  /** False for a conversation this turn will create. */
  existed: boolean;
  /** The backend request, JSON text (upstream-request.ts). */
  upstreamBody: string;
  /** The model it names (undefined: the backend's default). */
  model: string | undefined;
  /** Wall time of each step in ms, for the Server-Timing header (see turnTimer). */
  timings: Record<string, number>;
  /** The conversation's turn ticket (arrival order, durable-objects/conversation/turn-queue.ts); null once given back. */
  ticket: string | null;
  /** Backend the conversation is pinned to (Continuum TTL), if any. */
  pinnedBackend: string | null;
  /** Backend that served the reply (set by the route once it knows). */
  servedBy: string | null;
  idempotencyKey: string | undefined;
  /** When the request arrived (ms), to time tool calls for pinning. */
  arrivedAt: number;
  /** When the reply began reaching the client (first streamed chunk, or the whole completion): its messages' created_at. */
  visibleAt: number | null;
}

export interface TurnOptions {
  idempotencyKey?: string;
  /** How long the turn may hold the conversation if this Worker never gives it back. */
  leaseMs?: number;
  /** When the request reached the Worker (worker/http/request-path.ts requestArrival); now if absent. */
  arrivedAt?: number;
}

/** A turn to run, or the stored first result of a retried Idempotency-Key. */
export type TurnOrReplay = { kind: "turn"; turn: PreparedTurn } | { kind: "replay"; response: StoredTurnResponse };

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

export async function prepareTurn(stub: ConversationApi, conversationId: string, request: ChatRequest, defaultModel: string | undefined, options: TurnOptions = {}): Promise<TurnOrReplay> {
  const arrivedAt = options.arrivedAt ?? Date.now();
  const timings: Record<string, number> = {};
  // One round trip: waits for earlier turns on this conversation, then settings + plan (+ a stored idempotent result).
  const start = await timed(timings, "plan", () =>
    stub.beginTurn(request.messages, { budget_tokens: request.budgetTokens, idempotency_key: options.idempotencyKey, lease_ms: options.leaseMs, arrived_at: arrivedAt }),
  );
  if (start.kind === "refused") throw toApiError(start.message);
  if (start.kind === "replay") return { kind: "replay", response: start.response };
  const { settings, plan, ticket } = start;
  if (plan === null) throw new Error("beginTurn answered without a plan");
  const model = chooseModel(request.model, settings ?? undefined, defaultModel);
  return {
    kind: "turn",
    turn: {
      conversationId, stub, request, plan, existed: settings !== null, upstreamBody: buildUpstreamBody(request, plan, model), model, timings,
      ticket, pinnedBackend: start.pinned_backend, servedBy: null, idempotencyKey: options.idempotencyKey, arrivedAt, visibleAt: null,
    },
  };
}

/** Gives the conversation back without committing (the turn failed); later turns stop waiting. Safe to call twice. */
export async function abandonTurn(turn: PreparedTurn): Promise<void> {
  const ticket = turn.ticket;
  if (ticket === null) return;
  turn.ticket = null;
  await turn.stub.endTurn(ticket).catch(() => {});
}

/** Records the turn once the backend's reply is complete (creating the conversation first if this turn is its first). */
export async function commitReply(turn: PreparedTurn, reply: ChatMessage, usage: Usage | undefined, completion?: Record<string, unknown>): Promise<void> {
  await timed(turn.timings, "commit", async () => {
    if (!turn.existed) await turn.stub.configure(turn.conversationId, {});
    const ticket = turn.ticket;
    const response: StoredTurnResponse | undefined = turn.idempotencyKey && completion ? { completion, headers: turnHeaders(turn) } : undefined;
    await turn.stub.recordTurn(turn.request.messages, reply, usage, turn.plan.used_tokens, {
      ticket: ticket ?? undefined,
      idempotency_key: turn.idempotencyKey,
      response,
      backend: turn.servedBy ?? undefined,
      arrived_at: turn.arrivedAt,
      visible_at: turn.visibleAt ?? Date.now(),
    });
    // The object gives the ticket back whatever happens to a recordTurn that reaches it. Kept until here, a call
    // lost on the way is followed by endTurn (abandonTurn), which is a no-op for a ticket already given back.
    turn.ticket = null;
  });
}

/** Headers every chat response carries (the id lets clients continue a conversation epikv created). */
export function turnHeaders(turn: PreparedTurn): Record<string, string> {
  const h: Record<string, string> = {
    "x-conversation-id": turn.conversationId,
    "x-epikv-context-tokens": String(turn.plan.used_tokens),
    "x-epikv-budget-tokens": String(turn.plan.budget_tokens),
    "x-epikv-context-messages": String(turn.plan.message_count),
  };
  if (turn.plan.matched_episode !== null) h["x-epikv-matched-episode"] = String(turn.plan.matched_episode);
  if (turn.servedBy !== null) h["x-epikv-backend"] = turn.servedBy;
  return h;
}

/**
 * Non-streaming turn: the backend's completion, returned once the turn is
 * recorded, so a client that reads the conversation after the answer sees
 * it. (Committing under waitUntil after answering saved 0.2–0.6 ms of p50,
 * but calls from two requests to one object are not ordered, and a listing
 * read right after the answer was seen to miss the turn under load;
 * docs/context-mode.md, "Recording".)
 */
export async function completeTurn(turn: PreparedTurn, backend: ChatBackend): Promise<JsonObject> {
  let completion: ChatCompletion;
  try {
    completion = await timed(turn.timings, "backend", () => backend.complete(turn.upstreamBody));
    turn.visibleAt = Date.now();
  } catch (err) {
    await abandonTurn(turn);
    throw err;
  }
  await commitReply(turn, replyOf(completion), toUsage(completion.usage), completion).finally(() => abandonTurn(turn));
  return completion;
}

/** Server-Timing (W3C) of the steps done so far, e.g. "plan;dur=3, backend;dur=12, commit;dur=2". */
export function serverTiming(turn: PreparedTurn): string {
  return Object.entries(turn.timings)
    .map(([step, ms]) => `${step};dur=${ms}`)
    .join(", ");
}
