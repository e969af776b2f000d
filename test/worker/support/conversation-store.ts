// The conversation store over a Durable Object's own SQLite, as the object
// builds it (conversation-do.ts), for tests that read or write its tables
// inside runInDurableObject.
import { ConversationStore } from "../../../durable-objects/conversation/conversation-store";
import { sqlOver } from "../../../durable-objects/storage/sql";

export function storeOf(state: DurableObjectState): ConversationStore {
  return new ConversationStore(sqlOver(state.storage.sql), (fn) => state.storage.transactionSync(fn));
}
