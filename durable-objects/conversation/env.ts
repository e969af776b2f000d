// What a ConversationDO reads from its environment (a subset of the Worker's Env).
export interface ConversationEnv {
  /** Optional OpenAI-compatible /v1/embeddings endpoint replacing the built-in hashing embedder. */
  EMBEDDINGS_URL?: string;
  EMBEDDINGS_MODEL?: string;
  EMBEDDINGS_API_KEY?: string;
  /** Base URL of a kv backend (epikv-kv/1, docs/kv-protocol.md) for kv mode; see docs/kv-mode.md. */
  KV_BACKEND_URL?: string;
}
