// Figures that must be global (not per isolate) come from the Durable
// Objects at scrape time: the conversation index lists conversations, and
// each conversation's object reports its own counters (info() and stats()),
// summed here by tenant. Reading them costs one RPC per conversation, so a
// scrape reads at most SCRAPE_CONVERSATION_LIMIT of them, most recently used
// first, and says how many it read (epikv_metrics_conversations_scanned).
import type { Env } from "../env";
import { conversationStub } from "../conversations/conversation-stub";
import { conversationIndex } from "../conversations/conversation-index";
import { SCRAPE_CONVERSATION_LIMIT, type ConversationSnapshot } from "./conversation-families";

/** Reads the most recently used conversations' info and stats (the I/O half; conversation-families.ts sums them). */
export async function readConversations(env: Env, limit = SCRAPE_CONVERSATION_LIMIT): Promise<{ indexed: number; snapshots: ConversationSnapshot[] }> {
  const { data, total } = await conversationIndex(env).list(null, limit);
  const read = await Promise.all(
    data.map(async (row) => {
      const stub = conversationStub(env, row.tenant, row.id);
      const [info, stats] = await Promise.all([stub.info(), stub.stats()]);
      return info ? { tenant: row.tenant, info, stats } : null;
    }),
  );
  return { indexed: total, snapshots: read.filter((s): s is ConversationSnapshot => s !== null) };
}
