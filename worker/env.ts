// Bindings and vars the Worker receives (wrangler.toml, .dev.vars, secrets).
import type { ConversationDO } from "../durable-objects/conversation-do";

export interface Env {
  CONVERSATIONS: DurableObjectNamespace<ConversationDO>;
  EPIKV_VERSION: string;
}
