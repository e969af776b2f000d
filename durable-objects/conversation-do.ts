// One Durable Object per conversation: owns its episodic state in SQLite.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";

export class ConversationDO extends DurableObject<Env> {
  async ping(): Promise<string> {
    return "pong";
  }
}
