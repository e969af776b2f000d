// Bindings and vars the Worker receives (wrangler.toml, .dev.vars, secrets).
import type { ConversationDO } from "../durable-objects/conversation/conversation-do";
import type { ConversationEnv } from "../durable-objects/conversation/env";
import type { ConversationIndexDO } from "../durable-objects/conversation-index/conversation-index-do";

export interface Env extends ConversationEnv {
  CONVERSATIONS: DurableObjectNamespace<ConversationDO>;
  /** Operator tenants that may read /metrics (comma-separated); unset: nobody. */
  METRICS_TENANTS?: string;
  /** The per-tenant list of conversations (a ConversationDO cannot be listed); see docs/inspector.md. */
  CONVERSATION_INDEX: DurableObjectNamespace<ConversationIndexDO>;
  EPIKV_VERSION: string;
  /** OpenAI-compatible base URL of the GPU backend, including /v1 (vLLM, SGLang, llama.cpp, Ollama). */
  BACKEND_URL?: string;
  /** Bearer token for the backend; set with `wrangler secret put BACKEND_API_KEY` (or .dev.vars locally). */
  BACKEND_API_KEY?: string;
  /** Model sent to the backend when neither the request nor the conversation names one; listed by /v1/models. */
  BACKEND_MODEL?: string;
  /** Milliseconds to wait for the backend's first byte and between stream chunks (default 120000). */
  BACKEND_TIMEOUT_MS?: string;
  /** Largest accepted request body in bytes (default 16 MiB). */
  MAX_BODY_BYTES?: string;
  /** Optional service binding to a backend Worker; replaces network fetch to BACKEND_URL. */
  BACKEND?: Fetcher;
  /** API keys → tenants, a secret: JSON {"key":"tenant"} or "key:tenant,…" (worker/auth/api-keys.ts). */
  API_KEYS?: string;
  /** Per-key token bucket: tokens per second ("0" disables) and capacity (worker/limits/rate-limit.ts). */
  RATE_LIMIT_RPS?: string;
  RATE_LIMIT_BURST?: string;
  /** Most messages one chat request may carry (default 50000, as one import call; resent history counts). */
  MAX_MESSAGES_PER_REQUEST?: string;
  /** Several backends: JSON [{name,url,models?,apiKey?,binding?}] (worker/backend/pool.ts); overrides BACKEND_URL. */
  BACKENDS?: string;
  /** Attempts after the first on connect failures, 5xx and timeouts before the first token (default 2). */
  BACKEND_RETRIES?: string;
  /** How long a failed backend is tried last (passive health), in ms (default 10000). */
  BACKEND_COOLDOWN_MS?: string;
}
