// Rebuilds the assistant reply from stream chunks (choice 0: epikv asks for
// n = 1) and remembers the backend's usage, so the turn can be committed
// once the stream completes. Streamed tool calls arrive as fragments keyed by
// `index` (id, type and name once, `function.arguments` in pieces) and are
// merged back into OpenAI's whole `tool_calls` array.
import type { ChatMessage, Usage } from "../../durable-objects/conversation/conversation-api";
import type { ChatChunk, ChatCompletion } from "../backend/chat-backend";

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

export class ReplyAccumulator {
  private content = "";
  private readonly toolCalls: ToolCall[] = [];
  private usageSeen: Usage | undefined;
  finishReason: string | null = null;

  add(chunk: ChatChunk): void {
    for (const choice of chunk.choices) {
      if ((choice.index ?? 0) !== 0) continue;
      if (typeof choice.delta?.content === "string") this.content += choice.delta.content;
      if (Array.isArray(choice.delta?.tool_calls)) for (const d of choice.delta.tool_calls) this.addToolCall(d as ToolCallDelta);
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    const usage = toUsage(chunk.usage);
    if (usage) this.usageSeen = usage;
  }

  reply(): ChatMessage {
    const reply: ChatMessage = { role: "assistant", content: this.content };
    const calls = this.toolCalls.filter(Boolean);
    if (calls.length > 0) reply.tool_calls = calls;
    return reply;
  }

  private addToolCall(d: ToolCallDelta): void {
    const i = typeof d.index === "number" ? d.index : this.toolCalls.length;
    const call = (this.toolCalls[i] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
    if (d.id) call.id = d.id;
    if (d.type) call.type = d.type;
    if (d.function?.name) call.function.name += d.function.name;
    if (typeof d.function?.arguments === "string") call.function.arguments += d.function.arguments;
  }

  usage(): Usage | undefined {
    return this.usageSeen;
  }
}

/** The assistant message of a whole completion (tool calls kept verbatim). */
export function replyOf(completion: ChatCompletion): ChatMessage {
  const message = completion.choices[0]!.message;
  const reply: ChatMessage = { role: "assistant", content: message.content ?? "" };
  if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) reply.tool_calls = message.tool_calls;
  return reply;
}

export function toUsage(u: ChatChunk["usage"] | undefined): Usage | undefined {
  if (!u || typeof u.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") return undefined;
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens };
}
