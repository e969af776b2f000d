// Streaming turn: upstream chunks are passed to the client as they arrive
// (OpenAI chunk format), while a pump keeps reading upstream even after the
// client went away, then commits the reply before sending `[DONE]`. A stream
// that breaks ends with an SSE error event ({"error":{…}}, which the openai
// SDK raises as APIError) and commits nothing.
import type { ChatBackend, ChatChunk } from "../backend/chat-backend";
import { toApiError } from "../http/api-error";
import { commitReply, type PreparedTurn } from "./chat-turn";
import { ReplyAccumulator } from "./reply-accumulator";

export const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

/** Opens the upstream stream (a refused call throws before any SSE byte is sent) and returns the client's response. */
export async function streamTurn(turn: PreparedTurn, backend: ChatBackend, waitUntil: (p: Promise<unknown>) => void, headers: Record<string, string>): Promise<Response> {
  const chunks = await backend.stream(turn.upstreamBody);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const sink = new ClientSink(writable.getWriter());
  waitUntil(pump(turn, chunks, sink));
  return new Response(readable, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}

async function pump(turn: PreparedTurn, chunks: AsyncGenerator<ChatChunk>, sink: ClientSink): Promise<void> {
  const reply = new ReplyAccumulator();
  try {
    for await (const chunk of chunks) {
      reply.add(chunk);
      const out = chunkForClient(chunk, turn.request.includeUsage);
      if (out) await sink.send(`data: ${JSON.stringify(out)}\n\n`);
    }
    await commitReply(turn, reply.reply(), reply.usage());
    await sink.send("data: [DONE]\n\n");
  } catch (err) {
    await sink.send(`data: ${JSON.stringify(toApiError(err).toBody())}\n\n`);
  } finally {
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
class ClientSink {
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
