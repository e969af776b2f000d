// Bindings and vars the Worker receives (wrangler.toml, .dev.vars, secrets).
import type { ConversationDO } from "../durable-objects/conversation-do";
import type { ConversationEnv } from "../durable-objects/env";

export interface Env extends ConversationEnv {
  CONVERSATIONS: DurableObjectNamespace<ConversationDO>;
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
}
