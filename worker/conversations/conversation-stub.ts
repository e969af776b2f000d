// The conversation's Durable Object stub, typed by the RPC contract
// (durable-objects/conversation-api.ts). One object per conversation id.
import type { ConversationApi } from "../../durable-objects/conversation-api";
import type { Env } from "../env";

export function conversationStub(env: Env, id: string): ConversationApi {
  const ns = env.CONVERSATIONS;
  return ns.get(ns.idFromName(id)) as unknown as ConversationApi;
}
