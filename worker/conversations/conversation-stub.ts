// The conversation's Durable Object stub, typed by the RPC contract
// (durable-objects/conversation/conversation-api.ts). One object per (tenant, conversation id).
import type { ConversationApi } from "../../durable-objects/conversation/conversation-rpc";
import type { Env } from "../env";

export function conversationStub(env: Env, tenant: string, id: string): ConversationApi {
  const ns = env.CONVERSATIONS;
  return ns.get(ns.idFromName(conversationObjectName(tenant, id))) as unknown as ConversationApi;
}

/**
 * The object's name: tenant and id, NUL-separated (neither may contain NUL:
 * both are validated to a small alphabet), so one tenant can never address
 * another tenant's conversation — it reaches a different, empty object and
 * answers 404, never 403.
 */
export function conversationObjectName(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
