// kv mode's decoded turn (durable-objects/kv/kv-service.ts, KvTurnEvent) as
// OpenAI chat.completion.chunk objects, the same stream format context mode
// passes through from an OpenAI-compatible backend (worker/chat/stream-turn.ts):
// a first chunk with the assistant role, one content delta per token text,
// a final chunk with finish_reason, and a usage-only chunk when asked for.
import type { ChatChunk } from "../backend/chat-backend";
import type { KvTurnEvent } from "../../durable-objects/kv/kv-service";

export interface ChunkContext {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
}

export async function* kvChatChunks(events: AsyncIterable<KvTurnEvent>, c: ChunkContext): AsyncGenerator<ChatChunk> {
  const base = { id: c.id, object: "chat.completion.chunk", created: c.created, model: c.model };
  yield { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] };
  for await (const e of events) {
    if (e.type === "token") {
      if (e.text) yield { ...base, choices: [{ index: 0, delta: { content: e.text }, finish_reason: null }] };
      continue;
    }
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: e.finishReason }] };
    if (c.includeUsage) {
      yield { ...base, choices: [], usage: { prompt_tokens: e.promptTokens, completion_tokens: e.completionTokens, total_tokens: e.promptTokens + e.completionTokens } };
    }
  }
}

/** SSE lines of the chunks, ending with `data: [DONE]`. */
export async function* sseLines(chunks: AsyncIterable<ChatChunk>): AsyncGenerator<string> {
  for await (const chunk of chunks) yield `data: ${JSON.stringify(chunk)}\n\n`;
  yield "data: [DONE]\n\n";
}
