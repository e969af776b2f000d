// The RPC surface of a conversation's Durable Object (conversation-do.ts),
// apart from the data shapes it exchanges (conversation-api.ts) and the
// turn-ordering part (turn-api.ts), so that those two import nothing of
// each other's modules in a circle.
import type {
  ChatMessage, ContextSelection, ConversationInfo, ConversationSettings, ConversationStats, EpisodeView, ImportResult, MessagePage, TurnPlan, Usage,
} from "./conversation-api";
import type { BeginTurnOptions, CommitTurnOptions, TurnStart } from "./turn-api";

/** RPC surface of ConversationDO (each method runs inside the object). */
export interface ConversationApi {
  /** Create (or update settings of) the conversation; creating an existing id only updates the given settings. */
  configure(id: string, settings: Partial<ConversationSettings>): Promise<ConversationInfo>;
  /** null when the conversation does not exist. */
  info(): Promise<ConversationInfo | null>;
  /** Lifetime counters (null when the conversation does not exist). Reads only. */
  stats(): Promise<ConversationStats | null>;
  /** Delete every row; returns false when there was nothing. */
  destroy(): Promise<boolean>;
  importMessages(messages: ChatMessage[], idempotencyKey?: string): Promise<ImportResult>;
  /** The live conversation; with includeSuperseded, also the messages forks superseded (marked superseded_at), each after the live message that took its seq. */
  listMessages(after?: number, limit?: number, includeSuperseded?: boolean): Promise<MessagePage>;
  episodes(): Promise<EpisodeView[]>;
  previewContext(query: string, budgetTokens?: number): Promise<ContextSelection>;
  /** Recognise which of `messages` are new (resent history is deduplicated by a hash chain) and choose the context. Writes nothing. */
  planTurn(messages: ChatMessage[], options?: { budget_tokens?: number }): Promise<TurnPlan>;
  /**
   * Atomically append the request's new messages and the assistant reply.
   * `sentTokens` is the estimate of what was sent; with the backend's
   * usage.prompt_tokens it calibrates the token estimator.
   */
  commitTurn(messages: ChatMessage[], reply: ChatMessage, usage?: Usage, sentTokens?: number, options?: CommitTurnOptions): Promise<{ message_count: number; appended: number }>;
  /**
   * commitTurn that answers once the turn is accepted: validated, matched
   * against the stored history (409 history_conflict here) and its rows
   * embedded. The write follows inside the same blockConcurrencyWhile, so
   * every call that arrives after this answer sees the turn; if the write
   * itself fails, nothing of the turn is stored and the object logs it.
   */
  recordTurn(messages: ChatMessage[], reply: ChatMessage, usage?: Usage, sentTokens?: number, options?: CommitTurnOptions): Promise<{ appended: number }>;
  /**
   * Waits until every earlier turn on this conversation has committed or
   * ended (arrival order, turn-queue.ts), then plans (as planTurn) — or
   * returns the stored result of an earlier turn with the same
   * idempotency_key. The ticket must go back through commitTurn or endTurn.
   */
  beginTurn(messages: ChatMessage[], options?: BeginTurnOptions): Promise<TurnStart>;
  /** Releases a ticket without committing (the turn failed); false if it no longer held the conversation. */
  endTurn(ticket: string): Promise<boolean>;
}
