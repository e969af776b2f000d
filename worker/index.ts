// Worker entry: the Hono app plus the Durable Object classes wrangler binds.
import { app } from "./app";

export { ConversationDO } from "../durable-objects/conversation/conversation-do";
export { ConversationIndexDO } from "../durable-objects/conversation-index/conversation-index-do";
export default app;
