// Streaming turn: upstream chunks are passed to the client as they arrive
// (OpenAI chunk format), while a pump keeps reading upstream even after the
// client went away, then commits the reply before sending `[DONE]`. A stream
// that breaks ends with an SSE error event ({"error":{…}}, which the openai
// SDK raises as APIError) and commits nothing.
import type { ChatBackend, ChatChunk } from "../backend/chat-backend";
import { toApiError } from "../http/api-error";
import { abandonTurn, commitReply, type PreparedTurn } from "./chat-turn";
import { ReplyAccumulator } from "./reply-accumulator";

export const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

/** Opens the upstream stream (a refused call throws before any SSE byte is sent) and returns the client's response. */
export async function streamTurn(turn: PreparedTurn, backend: ChatBackend, waitUntil: (p: Promise<unknown>) => void, headers: Record<string, string>): Promise<Response> {
  let chunks: AsyncGenerator<ChatChunk>;
  try {
    chunks = await backend.stream(turn.upstreamBody);
  } catch (err) {
    await abandonTurn(turn);
    throw err;
  }
  if (turn.servedBy !== null) headers = { ...headers, "x-epikv-backend": turn.servedBy };
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const sink = new ClientSink(writable.getWriter());
  waitUntil(pump(turn, chunks, sink));
  return new Response(readable, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}

async function pump(turn: PreparedTurn, chunks: AsyncGenerator<ChatChunk>, sink: ClientSink): Promise<void> {
  const reply = new ReplyAccumulator();
  let first: ChatChunk | undefined;
  try {
    for await (const chunk of chunks) {
      first ??= chunk;
      turn.visibleAt ??= Date.now();
      reply.add(chunk);
      const out = chunkForClient(chunk, turn.request.includeUsage);
      if (out) await sink.send(`data: ${JSON.stringify(out)}\n\n`);
    }
    const message = reply.reply();
    // The whole completion, stored for an Idempotency-Key retry (answered as one chunk).
    const completion = {
      id: first?.id ?? "chatcmpl-epikv", object: "chat.completion", created: first?.created ?? Math.floor(Date.now() / 1000), model: first?.model ?? null,
      choices: [{ index: 0, message, finish_reason: reply.finishReason ?? "stop" }],
      ...(reply.usage() ? { usage: reply.usage() } : {}),
    };
    await commitReply(turn, message, reply.usage(), completion);
    await sink.send("data: [DONE]\n\n");
  } catch (err) {
    await sink.send(`data: ${JSON.stringify(toApiError(err).toBody())}\n\n`);
  } finally {
    await abandonTurn(turn);
    await sink.close();
  }
}

/**
 * epikv always asks upstream for usage; a client that did not ask for it
 * (stream_options.include_usage) gets no usage-only chunk and no usage field,
 * as OpenAI does.
 */
export function chunkForClient(chunk: ChatChunk, includeUsage: boolean): ChatChunk | null {
  if (includeUsage) return chunk;
  if (chunk.choices.length === 0) return null;
  if (chunk.usage === undefined) return chunk;
  const { usage: _dropped, ...rest } = chunk;
  return rest as ChatChunk;
}

/** Writes to the client until it disconnects; afterwards writes are dropped so the pump can finish the turn. */
export class ClientSink {
  private readonly encoder = new TextEncoder();
  private gone = false;
  constructor(private readonly writer: WritableStreamDefaultWriter<Uint8Array>) {}
  async send(text: string): Promise<void> {
    if (this.gone) return;
    try {
      await this.writer.write(this.encoder.encode(text));
    } catch {
      this.gone = true;
    }
  }
  async close(): Promise<void> {
    if (this.gone) return;
    await this.writer.close().catch(() => {});
  }
}
