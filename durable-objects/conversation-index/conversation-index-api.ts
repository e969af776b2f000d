// The contract of the conversation index Durable Object
// (conversation-index-do.ts): what the Worker may call on its stub.
export const CONVERSATION_INDEX_NAME = "conversation-index";
export const MAX_INDEX_PAGE = 500;

export interface IndexedConversation {
  tenant: string;
  id: string;
  /** ms since the epoch when the index first saw it. */
  first_seen_at: number;
  /** ms since the epoch of the last recorded use (coarse: the Worker memoises). */
  last_seen_at: number;
}

/** RPC surface of ConversationIndexDO. */
export interface ConversationIndexApi {
  /** Insert, or refresh last_seen_at of, (tenant, id). */
  record(tenant: string, id: string, at: number): Promise<void>;
  /** Drop (tenant, id); false when absent. */
  forget(tenant: string, id: string): Promise<boolean>;
  /** Most recently seen first; `tenant` null lists every tenant. */
  list(tenant: string | null, limit: number): Promise<{ data: IndexedConversation[]; total: number }>;
}
