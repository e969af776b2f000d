// The turn-ordering and idempotency part of the ConversationDO contract
// (conversation-api.ts imports these): beginTurn waits for the conversation's
// turn ticket (turn-queue.ts) and returns the plan, or — for a retried
// Idempotency-Key — the stored first result; recordTurn (the Worker's) or
// commitTurn stores the result with the messages in one transaction and
// gives the ticket back.
import type { ConversationSettings } from "./conversation-api";
import type { SentPlan } from "./sent-plan";

export interface BeginTurnOptions {
  budget_tokens?: number;
  /** Idempotency-Key of the request (isIdempotencyKey). */
  idempotency_key?: string;
  /** How long the ticket holds the conversation if never released (ms). */
  lease_ms?: number;
  /** When the request arrived at the edge (ms): messages that became visible after it were unknown to its client (rule (q)). */
  arrived_at?: number;
  /** false: take the ticket (and any stored result) without choosing a context (kv mode decodes against its own cache). */
  plan?: boolean;
}

/** The stored first result of an idempotent turn. */
export interface StoredTurnResponse {
  /** The chat.completion object the client received (a stream is stored as its whole completion). */
  completion: Record<string, unknown>;
  /** Response headers worth repeating (conversation id, context figures). */
  headers: Record<string, string>;
}

export type TurnStart =
  | {
      kind: "go";
      ticket: string;
      /** The conversation's settings; null when it does not exist yet (a first turn creates it). */
      settings: ConversationSettings | null;
      /** null when asked with plan: false. */
      plan: SentPlan | null;
      /** Backend the conversation is pinned to (pinning.ts), while the pin holds. */
      pinned_backend: string | null;
    }
  | { kind: "replay"; response: StoredTurnResponse }
  /**
   * An expected refusal (a ConversationErrorCode message, "code: detail"):
   * returned, not thrown, because workerd logs every error an RPC method
   * throws as an uncaught exception, and a 409 or 429 is not a fault.
   */
  | { kind: "refused"; message: string };

export interface CommitTurnOptions {
  /** The ticket beginTurn gave; released after the write. */
  ticket?: string;
  idempotency_key?: string;
  /** Stored under idempotency_key in the same transaction as the messages. */
  response?: StoredTurnResponse;
  /** Backend that served the turn (for pinning). */
  backend?: string;
  /** When the turn arrived at the edge (ms), to time tool calls. */
  arrived_at?: number;
  /**
   * When the reply began reaching the client (ms, the edge's clock): the
   * turn's messages are stored with it as created_at, so a later request can
   * tell whether its client could have seen them (history-divergence.ts rule (q)).
   */
  visible_at?: number;
}

/** Default and bounds of a ticket's lease (ms). */
export const DEFAULT_TURN_LEASE_MS = 600_000;
export const MAX_TURN_LEASE_MS = 1_800_000;
/** Turns that may wait behind the one in progress, per conversation. */
export const MAX_WAITING_TURNS = 64;
/** Prefix of idempotency rows in import_keys (imports use the bare key). */
export const TURN_KEY_PREFIX = "turn\u0000";

/** Longest Idempotency-Key accepted, in characters, for turns and imports alike. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The one rule for an Idempotency-Key, applied by the Worker (HTTP header) and the object (RPC argument). */
export function isIdempotencyKey(key: unknown): key is string {
  return typeof key === "string" && key.length > 0 && key.length <= MAX_IDEMPOTENCY_KEY_LENGTH;
}

/** A requested ticket lease (ms), clamped to [1 s, MAX_TURN_LEASE_MS]; DEFAULT_TURN_LEASE_MS when absent. */
export function turnLeaseMs(requested: number | undefined): number {
  return Math.min(MAX_TURN_LEASE_MS, Math.max(1000, Number.isFinite(requested) ? requested! : DEFAULT_TURN_LEASE_MS));
}
