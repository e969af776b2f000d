// The contract between the Worker (worker/) and a conversation's Durable
// Object (conversation-do.ts): the data shapes and errors; the RPC methods
// are conversation-rpc.ts. The Worker validates HTTP input, calls the RPC
// methods on the conversation's stub, and talks to the
// GPU backend; the Durable Object owns state and decides the context.
//
// A chat turn is two calls so that a failed upstream call writes nothing:
//   plan = await stub.planTurn(messages, options)   // reads only
//   …the Worker sends plan.context to the backend, streams the reply…
//   await stub.commitTurn(messages, reply, usage, plan.context.used_tokens) // one atomic write
// A plan that is never committed leaves the conversation exactly as it was.
// commitTurn re-derives what is new from the same request messages, so it
// needs no in-memory state from planTurn (it survives an object restart).

export type Role = "system" | "user" | "assistant" | "tool";

/** A message as OpenAI clients send it (content flattened to text). */
export interface ChatMessage {
  role: Role;
  content: string;
  name?: string;
  tool_call_id?: string;
  /** Assistant tool calls, kept verbatim (OpenAI shape). */
  tool_calls?: unknown[];
}

export interface StoredMessage extends ChatMessage {
  /** 0-based position in the conversation. */
  seq: number;
  /** Stable id, "msg_" + hash-chain prefix. */
  id: string;
  /** Estimated tokens (see token estimator). */
  tokens: number;
  created_at: number;
  /** Present only on superseded messages (listed with include_superseded): when a fork replaced them (ms). */
  superseded_at?: number;
}

export interface ConversationSettings {
  /** Token budget of the context sent to the backend per turn. */
  budget_tokens: number;
  /** Number of episodes (k of k-means). */
  episodes: number;
  /** Utterances per segment window. */
  window: number;
  /** Most recent messages always sent verbatim (within budget). */
  recent_messages: number;
  /** Model name to forward to the backend (default: the backend's default). */
  model?: string;
  /** Named backend from configuration (default: the configured default). */
  backend?: string;
  /**
   * What a resend that diverges from the stored history does (history-divergence.ts):
   * "fork" (default) supersedes the stored messages from the divergence point;
   * "strict" refuses it with 409 history_conflict.
   */
  history?: "fork" | "strict";
}

export interface ConversationInfo {
  id: string;
  created_at: number;
  settings: ConversationSettings;
  message_count: number;
  segment_count: number;
  episode_count: number;
  total_tokens: number;
  /** Calibrated chars-per-token of the estimator for this conversation. */
  chars_per_token: number;
  /** What the object holds in memory for turn planning (this instance; 0 for parts not built yet). */
  memory?: ConversationMemory;
  /** A full re-clustering is scheduled (alarm) and has not run yet. */
  recluster_pending?: boolean;
}

/** The object's own accounting of its in-memory structures (bytes allocated, not V8's view). */
export interface ConversationMemory {
  /** Segments in the in-memory relevance index (0 when not built, or past its cap). */
  index_segments: number;
  /** Bytes of the index: row matrices (WASM memory, including unused capacity and scan buffers) and id/span columns. */
  index_bytes: number;
  /** Bytes of the per-message metadata mirror (token weights, tool-unit heads). */
  message_meta_bytes: number;
  /** Bytes (at most) of the cached text of recently selected messages. */
  message_cache_bytes: number;
  /** Messages with terms in the lexical index (0 when not built). */
  lexical_documents: number;
  /** The first seq the lexical index covers: 0, or where its window starts once the conversation outgrew MAX_LEXICAL_BYTES (docs/context-selection.md). */
  lexical_first_seq: number;
  /** Distinct terms in the lexical index. */
  lexical_terms: number;
  /** Bytes of the lexical index: postings blocks, per-term and per-message columns, and the term map (estimated at 64 bytes a term). */
  lexical_bytes: number;
}

export type Provenance =
  | { kind: "pinned" }
  | { kind: "recent" }
  | { kind: "episode"; episode: number; score: number }
  /**
   * A ranked message (selection/message-ranking.ts): `seq` is the match, with its BM25, dense (null
   * past the candidate pool) and fused scores and its episode; `window` is the range of messages around it
   * that it brought with it (neighbours.ts), null when it came alone.
   */
  | { kind: "ranked"; seq: number; episode: number | null; lexical: number; dense: number | null; fused: number; window: { first: number; last: number } | null }
  /** The current turn's new messages (always sent). */
  | { kind: "turn" };

export interface ContextMessage {
  seq: number | null;
  id: string | null;
  role: Role;
  content: string;
  /** Present when the stored/request message had them (tool calls must reach the backend intact). */
  name?: string;
  tool_call_id?: string;
  tool_calls?: unknown[];
  tokens: number;
  provenance: Provenance;
}

export interface ContextSelection {
  /** Messages in conversation order, exactly what goes to the backend. */
  messages: ContextMessage[];
  matched_episode: number | null;
  budget_tokens: number;
  used_tokens: number;
  /** Tokens of the whole conversation (for compression ratios). */
  conversation_tokens: number;
}

export interface ImportResult {
  /** Messages appended by this call. */
  appended: number;
  /** Messages recognised as already held (resent history). */
  duplicates: number;
  message_count: number;
  /** True when an earlier call with the same Idempotency-Key already did this. */
  replayed: boolean;
}

export interface MessagePage {
  messages: StoredMessage[];
  /** Pass as `after` to get the next page; null at the end. */
  next_after: number | null;
}

export interface EpisodeView {
  id: number;
  size: number;
  /** Segment ids in conversation order. */
  segments: { id: number; first_seq: number; last_seq: number; score: number }[];
  representative_segments: number[];
  top_terms: string[];
}

export interface TurnPlan {
  /** How many of the request's messages were new. */
  new_messages: number;
  context: ContextSelection;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** Lifetime counters of one conversation, for GET /metrics and the inspector (read-only). */
export interface ConversationStats {
  /** Chat turns committed. */
  turns: number;
  /** Full k-means re-clusterings run by the alarm. */
  reclusters: number;
}

/**
 * The conversation id inside an object's name. The Worker names each object
 * "<tenant>\u0000<id>" (worker/conversations/conversation-stub.ts); the id a
 * client sees and sends back never carries the tenant.
 */
export function conversationIdOfObjectName(name: string): string {
  return name.slice(name.lastIndexOf("\u0000") + 1);
}

// ---------------------------------------------------------------------------
// Errors. Only an Error's message survives the RPC boundary reliably, so each
// error's message starts with a stable code ("code: detail"); the Worker maps
// codes to HTTP statuses with `conversationErrorCode(err)`.

export type ConversationErrorCode = "context_over_budget" | "history_conflict" | "invalid_request" | "conversation_busy";

/** HTTP status the Worker should answer for each code. */
export const CONVERSATION_ERROR_STATUS: Record<ConversationErrorCode, number> = {
  context_over_budget: 400,
  history_conflict: 409,
  invalid_request: 400,
  /** Too many turns already waiting on one conversation (turn-queue.ts). */
  conversation_busy: 429,
};

/** Pinned system messages plus the current turn alone exceed the budget (HTTP 400). */
export class ContextOverBudgetError extends Error {
  constructor(readonly requiredTokens: number, readonly budgetTokens: number) {
    super(`context_over_budget: pinned system messages and the new messages need ~${requiredTokens} tokens, over the budget of ${budgetTokens}`);
    this.name = "ContextOverBudgetError";
  }
}

/** Under history "strict", the request's history diverges from (or rewinds) the stored conversation (HTTP 409; history-divergence.ts). */
export class HistoryConflictError extends Error {
  constructor(readonly matchedMessages: number, readonly storedMessages: number) {
    super(`history_conflict: the request matches the stored conversation for ${matchedMessages} messages, then differs from its ${storedMessages} stored messages; this conversation's history setting is "strict", so stored history is never forked (send only new messages, or set settings.history to "fork")`);
    this.name = "HistoryConflictError";
  }
}

/** Bad input reaching the object (HTTP 400). */
export class InvalidConversationRequestError extends Error {
  constructor(detail: string) {
    super(`invalid_request: ${detail}`);
    this.name = "InvalidConversationRequestError";
  }
}

/** The code of an error thrown by a ConversationDO method (also after crossing RPC), or null. */
export function conversationErrorCode(err: unknown): ConversationErrorCode | null {
  // Not `instanceof Error`: errors re-created across RPC or realms may fail it.
  const raw = typeof err === "string" ? err : (err as { message?: unknown } | null)?.message;
  const message = typeof raw === "string" ? raw : "";
  // Across RPC the message arrives as "ErrorName: code: detail".
  const match = /^(?:[A-Za-z]*Error: )?(context_over_budget|history_conflict|invalid_request|conversation_busy):/.exec(message);
  return match ? (match[1] as ConversationErrorCode) : null;
}
