// POST /v1/kv/chat/completions — kv mode (docs/kv-mode.md): the same OpenAI
// Chat Completions surface as context mode (point an OpenAI client at
// `…/v1/kv`), but the conversation's Durable Object decodes the turn against
// its episodic KV cache on a kv backend (KV_BACKEND_URL, docs/kv-protocol.md)
// instead of sending selected messages to an OpenAI-compatible server.
// Optional body field `kv`: {policy, budget, blockSize, encoding, alpha}
// (durable-objects/kv/kv-mode.ts).
//
// The same guarantees as context mode (worker/routes/chat-completions.ts):
// the same validation (worker/validation/chat-turn.ts); the turn holds the
// conversation's turn ticket (arrival order) from beginTurn to commitTurn; an
// Idempotency-Key retry gets the stored first result; the reply is recorded
// under waitUntil even when the client hangs up mid-stream; a kv backend
// failure is a 502 (kv-errors.ts) and writes nothing.
import { Hono } from "hono";
import type { Env } from "../env";
import type { ChatChunk } from "../backend/chat-backend";
import type { KvTurnRequest } from "../../durable-objects/kv/kv-durable";
import type { KvTurnEvent } from "../../durable-objects/kv/kv-service";
import { waitUntilOf } from "../http/wait-until";
import { toApiError } from "../http/api-error";
import { readChatTurn } from "../chat/read-chat-turn";
import { conversationStub } from "../conversations/conversation-stub";
import { tenantOf } from "../conversations/conversation-index";
import { ClientSink, SSE_HEADERS } from "../chat/stream-turn";
import { replayResponse } from "../chat/turn-replay";
import { backendConfig } from "../backend/backend-config";
import { kvChatChunks } from "./kv-chunks";
import { kvTurnError } from "./kv-errors";
import { workerMetrics } from "../metrics/worker-metrics";

/** The kv method of the conversation object (ConversationDO.kvTurn). */
interface KvTurnStub {
  kvTurn(request: KvTurnRequest): Promise<ReadableStream<Uint8Array>>;
}

/** NDJSON events from the object; an {"type":"error"} line becomes a 502 (kv-errors.ts). */
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
      if (e.type === "error") throw kvTurnError(new Error(e.message.startsWith("kv backend ") ? e.message : `kv backend 502 ${e.code || "error"}: ${e.message}`));
      yield e;
    }
    if (done) return;
  }
}

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

export const kvChatRoute = new Hono<{ Bindings: Env }>().post("/v1/kv/chat/completions", async (c) => {
  const { request, conversationId: id, idempotencyKey, kv } = await readChatTurn(c, "kv");
  const stub = conversationStub(c.env, tenantOf(c), id);
  const waitUntil = waitUntilOf(c);
  const p = request.passthrough as Record<string, unknown>;
  const headers = { "x-conversation-id": id, "x-epikv-mode": "kv" };
  const leaseMs = backendConfig(c.env).timeoutMs * 3 + 60_000;
  const arrivedAt = Date.now();
  /** When the reply began reaching the client (its messages' created_at; history-divergence.ts rule (q)). */
  let visibleAt: number | null = null;

  // From here the turn holds its conversation; it runs to the end under waitUntil even if the client hangs up.
  const serving = (async () => {
    const start = await stub.beginTurn(request.messages, { idempotency_key: idempotencyKey, lease_ms: leaseMs, plan: false, arrived_at: arrivedAt });
    if (start.kind === "refused") throw toApiError(start.message);
    if (start.kind === "replay") return replayResponse(start.response, request.stream, request.includeUsage);
    let ticket: string | null = start.ticket;
    const release = async () => {
      if (ticket !== null) await stub.endTurn(ticket).catch(() => {});
      ticket = null;
    };
    let events: AsyncGenerator<KvTurnEvent>;
    try {
      const stream = await (stub as unknown as KvTurnStub).kvTurn({
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        max_tokens: (p.max_completion_tokens ?? p.max_tokens) as number | undefined,
        temperature: p.temperature as number | undefined,
        seed: p.seed as number | undefined,
        kv,
      });
      // The first event before any answer: a backend that is down is a 502, also for a streaming request.
      events = await peeked(kvEvents(stream));
      visibleAt = Date.now();
    } catch (err) {
      await release();
      throw kvTurnError(err);
    }
    const context = { id: `chatcmpl-${crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model: request.model ?? "epikv-kv", includeUsage: true };
    const reply = { text: "", finish: null as string | null, usage: undefined as Usage | undefined, kvInfo: undefined as Record<string, number | boolean> | undefined };
    const chunks = async function* (): AsyncGenerator<ChatChunk> {
      for await (const chunk of kvChatChunks(noting(events, reply), context)) {
        reply.text += chunk.choices[0]?.delta?.content ?? "";
        reply.finish = chunk.choices[0]?.finish_reason ?? reply.finish;
        if (chunk.usage) reply.usage = chunk.usage as Usage;
        if (chunk.usage && !request.includeUsage) continue;
        yield chunk;
      }
    };
    const completion = () => ({
      id: context.id, object: "chat.completion", created: context.created, model: context.model,
      choices: [{ index: 0, message: { role: "assistant", content: reply.text }, finish_reason: reply.finish ?? "stop" }],
      usage: reply.usage,
      epikv: reply.kvInfo,
    });
    /** Records the turn (creating the conversation on its first turn) with its stored result; gives the ticket back. */
    const commit = async () => {
      if (start.info === null) await stub.configure(id, {});
      const t = ticket;
      ticket = null;
      await stub.commitTurn(request.messages, { role: "assistant", content: reply.text }, reply.usage, undefined, {
        ticket: t ?? undefined,
        idempotency_key: idempotencyKey,
        response: idempotencyKey ? { completion: completion(), headers } : undefined,
        arrived_at: arrivedAt,
        visible_at: visibleAt ?? Date.now(),
      });
    };

    if (!request.stream) {
      try {
        for await (const _ of chunks());
        visibleAt = Date.now();
        await commit();
      } catch (err) {
        throw kvTurnError(err);
      } finally {
        await release();
      }
      return c.json(completion(), 200, headers);
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const sink = new ClientSink(writable.getWriter());
    // A client that hangs up stops receiving, not the turn: the pump reads to the end and commits.
    waitUntil((async () => {
      try {
        for await (const chunk of chunks()) await sink.send(`data: ${JSON.stringify(chunk)}\n\n`);
        await commit();
        await sink.send("data: [DONE]\n\n");
      } catch (err) {
        await sink.send(`data: ${JSON.stringify(kvTurnError(err).toBody())}\n\n`);
      } finally {
        await release();
        await sink.close();
      }
    })());
    return new Response(readable, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
  })();
  waitUntil(serving.catch(() => {}));
  return serving;
});

/** The generator with its first item already read (so its failure throws here), replayed first. */
async function peeked<T>(it: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await it.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* it;
  })();
}

/** Notes what the object reported about the kv turn (returned as the completion's `epikv` field). */
async function* noting(events: AsyncIterable<KvTurnEvent>, reply: { kvInfo?: Record<string, number | boolean> }): AsyncGenerator<KvTurnEvent> {
  for await (const e of events) {
    if (e.type === "done") {
      reply.kvInfo = { episode: e.episode, cached_entries: e.cachedEntries, folded_tokens: e.folded, bytes_sent: e.bytesSent, used_handle: e.usedHandle };
      if (e.triedHandle) (e.usedHandle ? workerMetrics().kvPinHits : workerMetrics().kvPinMisses).inc({});
    }
    yield e;
  }
}
