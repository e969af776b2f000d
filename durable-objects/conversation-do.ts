// One Durable Object per conversation: owns its episodic state in SQLite.
import { DurableObject } from "cloudflare:workers";
import type { ConversationEnv } from "./env";

export class ConversationDO extends DurableObject<ConversationEnv> {
  async ping(): Promise<string> {
    return "pong";
  }
}
