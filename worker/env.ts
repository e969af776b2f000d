// Bindings and vars the Worker receives (wrangler.toml, .dev.vars, secrets).
import type { ConversationDO } from "../durable-objects/conversation-do";
import type { ConversationEnv } from "../durable-objects/env";

export interface Env extends ConversationEnv {
  CONVERSATIONS: DurableObjectNamespace<ConversationDO>;
  EPIKV_VERSION: string;
}
