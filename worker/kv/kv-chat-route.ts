// POST /v1/kv/chat/completions — kv mode (docs/kv-mode.md): the same OpenAI
// Chat Completions surface as context mode (point an OpenAI client at
// `…/v1/kv`), but the conversation's Durable Object decodes the turn against
// its episodic KV cache on a kv backend (KV_BACKEND_URL, docs/kv-protocol.md)
// instead of sending selected messages to an OpenAI-compatible server.
// Optional body field `kv`: {policy, budget, blockSize, encoding, alpha}
// (durable-objects/kv/kv-mode.ts). The turn is committed through the
// object's commitTurn, as in context mode, so both modes share one history.
import { Hono } from "hono";
import type { Env } from "../env";
import type { ChatChunk } from "../backend/chat-backend";
import { invalidRequest, upstreamError } from "../http/api-error";
import { readJsonBody } from "../http/json-body";
import { maxBodyBytes } from "../http/body-limit";
import { waitUntilOf } from "../http/wait-until";
import { parseChatRequest } from "../validation/chat-request";
import { parseKvSettings } from "../validation/kv-settings";
import { newConversationId, parseConversationId } from "../validation/conversation-id";
import { conversationStub } from "../conversations/conversation-stub";
import { tenantOf } from "../conversations/conversation-index";
import { SSE_HEADERS } from "../chat/stream-turn";
import type { KvTurnRequest } from "../../durable-objects/kv/kv-durable";
import type { KvTurnEvent } from "../../durable-objects/kv/kv-service";
import { kvChatChunks } from "./kv-chunks";
import { workerMetrics } from "../metrics/worker-metrics";

/** The kv method of the conversation object (ConversationDO.kvTurn). */
interface KvTurnStub {
  kvTurn(request: KvTurnRequest): Promise<ReadableStream<Uint8Array>>;
}

/** NDJSON events from the object; an {"type":"error"} line becomes a 502. */
async function* kvEvents(stream: ReadableStream<Uint8Array>): AsyncGenerator<KvTurnEvent> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 1);
      if (!line) continue;
      const e = JSON.parse(line) as KvTurnEvent | { type: "error"; message: string; code: string };
      if (e.type === "error") throw upstreamError(502, `kv backend: ${e.message}`, e.code || "kv_backend_error");
      yield e;
    }
    if (done) return;
  }
}

export const kvChatRoute = new Hono<{ Bindings: Env }>().post("/v1/kv/chat/completions", async (c) => {
  const body = await readJsonBody(c.req.raw, maxBodyBytes(c.env));
  const kv = parseKvSettings((body as Record<string, unknown>).kv);
  const { kv: _kv, ...openai } = body as Record<string, unknown>;
  const request = parseChatRequest(openai);
  // kv mode decodes an answer to the request's last turn: it must not end with the assistant.
  if (request.messages.at(-1)?.role === "assistant") {
    throw invalidRequest("kv mode answers the messages after the last assistant message; the request ends with an assistant message", "messages");
  }
  const header = c.req.header("x-conversation-id");
  const id = header ? parseConversationId(header, "X-Conversation-Id") : (request.conversationId ?? newConversationId());
  const stub = conversationStub(c.env, tenantOf(c), id);
  const p = request.passthrough as Record<string, unknown>;
  const maxTokens = (p.max_completion_tokens ?? p.max_tokens) as number | undefined;
  const stream = await (stub as unknown as KvTurnStub).kvTurn({
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    max_tokens: maxTokens,
    temperature: p.temperature as number | undefined,
    seed: p.seed as number | undefined,
    kv,
  });
  const chunkContext = { id: `chatcmpl-${crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model: request.model ?? "epikv-kv", includeUsage: request.includeUsage };
  let text = "";
  let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
  let finish: string | null = null;
  let kvInfo: Record<string, number | boolean> | undefined;
  /** Records what the object reported about the kv turn (returned as the completion's `epikv` field). */
  async function* noting(events: AsyncIterable<KvTurnEvent>): AsyncGenerator<KvTurnEvent> {
    for await (const e of events) {
      if (e.type === "done") {
        kvInfo = { episode: e.episode, cached_entries: e.cachedEntries, folded_tokens: e.folded, bytes_sent: e.bytesSent, used_handle: e.usedHandle };
        if (e.triedHandle) (e.usedHandle ? workerMetrics().kvPinHits : workerMetrics().kvPinMisses).inc({});
      }
      yield e;
    }
  }
  const chunks = async function* (): AsyncGenerator<ChatChunk> {
    for await (const chunk of kvChatChunks(noting(kvEvents(stream)), { ...chunkContext, includeUsage: true })) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage as typeof usage;
      if (chunk.usage && !request.includeUsage) continue;
      yield chunk;
    }
  };
  const commit = () => stub.commitTurn(request.messages, { role: "assistant", content: text }, usage);
  const headers = { "x-conversation-id": id, "x-epikv-mode": "kv" };

  if (!request.stream) {
    for await (const _ of chunks());
    await commit();
    return c.json({
      id: chunkContext.id, object: "chat.completion", created: chunkContext.created, model: chunkContext.model,
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finish ?? "stop" }],
      usage,
      epikv: kvInfo,
    }, 200, headers);
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const enc = new TextEncoder();
  const pump = (async () => {
    try {
      for await (const chunk of chunks()) await writer.write(enc.encode(`data: ${JSON.stringify(chunk)}\n\n`));
      await commit();
      await writer.write(enc.encode("data: [DONE]\n\n"));
    } catch (err) {
      const e = err as { toBody?: () => unknown; message?: string };
      await writer.write(enc.encode(`data: ${JSON.stringify(e.toBody ? e.toBody() : { error: { message: e.message ?? String(err), type: "server_error" } })}\n\n`));
    } finally {
      await writer.close().catch(() => {});
    }
  })();
  waitUntilOf(c)(pump);
  return new Response(readable, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
});
