// Recording a kv turn inside the conversation's object (docs/kv-mode.md,
// "Hang-ups"). The object decodes the whole reply on its own, whether or not
// the Worker still reads the stream (a client that hung up cancels the
// Worker's request, and with it the RPC stream), then commits it through the
// same commitTurn as context mode: the request's new messages and the reply
// in one transaction, with the completion stored under the Idempotency-Key.
// This file holds what that needs beyond the decode: the request's part
// (KvTurnRecord), the reply as it accumulates, and the stored completion.
import type { ChatMessage, Usage } from "../conversation/conversation-api";
import type { CommitTurnOptions, StoredTurnResponse } from "../conversation/turn-api";
import type { KvTurnEvent } from "./kv-service";

type DoneEvent = Extract<KvTurnEvent, { type: "done" }>;

/** What the Worker hands over so the object can record the turn itself. */
export interface KvTurnRecord {
  /** The request's messages as sent (validated by the Worker). */
  messages: ChatMessage[];
  /** The turn ticket beginTurn gave (released by the commit). */
  ticket?: string;
  idempotency_key?: string;
  arrived_at?: number;
  stream: boolean;
  /** The conversation's id when this turn creates it (its first turn). */
  create_id?: string;
  /** The completion's identity and the headers a replay repeats. */
  completion: { id: string; created: number; model: string; headers: Record<string, string> };
}

/** How the object writes (its commitTurn and configure), injected by ConversationDO. */
export interface KvTurnWriter {
  configure(id: string): Promise<unknown>;
  commit(messages: ChatMessage[], reply: ChatMessage, usage: Usage | undefined, options: CommitTurnOptions): Promise<unknown>;
  release(ticket: string): void;
}

/** The reply as the events arrive. */
export class KvReply {
  text = "";
  done: DoneEvent | null = null;
  /** When the first token went out (the reply began reaching a streaming client). */
  firstTokenAt: number | null = null;

  add(e: KvTurnEvent, now: number): void {
    if (e.type === "token") {
      this.text += e.text;
      this.firstTokenAt ??= now;
    } else this.done = e;
  }

  /** The chat.completion the Worker answers with (stored for an Idempotency-Key retry). */
  completion(record: KvTurnRecord): Record<string, unknown> {
    const d = this.done;
    return {
      id: record.completion.id, object: "chat.completion", created: record.completion.created, model: record.completion.model,
      choices: [{ index: 0, message: { role: "assistant", content: this.text }, finish_reason: d?.finishReason ?? "stop" }],
      usage: d ? { prompt_tokens: d.promptTokens, completion_tokens: d.completionTokens, total_tokens: d.promptTokens + d.completionTokens } : undefined,
      epikv: d ? { episode: d.episode, cached_entries: d.cachedEntries, folded_tokens: d.folded, bytes_sent: d.bytesSent, used_handle: d.usedHandle } : undefined,
    };
  }
}

/** Commits the decoded turn (creating the conversation first on its first turn); returns the completion. */
export async function recordKvTurn(writer: KvTurnWriter, record: KvTurnRecord, reply: KvReply, now: number): Promise<Record<string, unknown>> {
  const completion = reply.completion(record);
  if (record.create_id) await writer.configure(record.create_id);
  const d = reply.done;
  const usage = d ? { prompt_tokens: d.promptTokens, completion_tokens: d.completionTokens } : undefined;
  const response: StoredTurnResponse | undefined = record.idempotency_key ? { completion, headers: record.completion.headers } : undefined;
  await writer.commit(record.messages, { role: "assistant", content: reply.text }, usage, {
    ticket: record.ticket,
    idempotency_key: record.idempotency_key,
    response,
    arrived_at: record.arrived_at,
    visible_at: record.stream ? (reply.firstTokenAt ?? now) : now,
  });
  return completion;
}
