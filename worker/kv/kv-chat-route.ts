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
// Idempotency-Key retry gets the stored first result; the object records the
// turn itself once the reply is decoded (durable-objects/kv/kv-turn-record.ts),
// so a client that hangs up mid-stream loses nothing; a kv backend failure is
// a 502 (kv-errors.ts) and writes nothing.
import { Hono } from "hono";
import type { Env } from "../env";
import type { KvTurnRequest } from "../../durable-objects/kv/kv-durable";
import type { KvTurnEvent } from "../../durable-objects/kv/kv-service";
import { waitUntilOf } from "../http/wait-until";
import { toApiError, upstreamError } from "../http/api-error";
import { readChatTurn } from "../chat/read-chat-turn";
import { conversationStub } from "../conversations/conversation-stub";
import { tenantOf } from "../conversations/conversation-index";
import { ClientSink, SSE_HEADERS } from "../chat/stream-turn";
import { replayResponse } from "../chat/turn-replay";
import { backendConfig } from "../backend/backend-config";
import { kvChatChunks } from "./kv-chunks";
import { kvTurnError } from "./kv-errors";
import { workerMetrics } from "../metrics/worker-metrics";
import { requestArrival } from "../http/request-path";

/** The kv method of the conversation object (ConversationDO.kvTurn). */
interface KvTurnStub {
  kvTurn(request: KvTurnRequest): Promise<ReadableStream<Uint8Array>>;
}

/** The object's {"type":"committed"} line: the turn is recorded; `completion` is what it stored. */
type Committed = { type: "committed"; completion: Record<string, unknown> };

/** NDJSON events from the object; an {"type":"error"} line becomes a 502 (kv-errors.ts); `committed` is noted, not yielded. */
async function* kvEvents(stream: ReadableStream<Uint8Array>, outcome: { committed: Committed | null }): AsyncGenerator<KvTurnEvent> {
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
      const e = JSON.parse(line) as KvTurnEvent | Committed | { type: "error"; message: string; code: string };
      if (e.type === "error") throw kvTurnError(new Error(e.message.startsWith("kv backend ") ? e.message : `kv backend 502 ${e.code || "error"}: ${e.message}`));
      if (e.type === "committed") outcome.committed = e;
      else yield e;
    }
    if (done) return;
  }
}

export const kvChatRoute = new Hono<{ Bindings: Env }>().post("/v1/kv/chat/completions", async (c) => {
  const { request, conversationId: id, idempotencyKey, kv } = await readChatTurn(c, "kv");
  const stub = conversationStub(c.env, tenantOf(c), id);
  const waitUntil = waitUntilOf(c);
  const p = request.passthrough as Record<string, unknown>;
  const headers = { "x-conversation-id": id, "x-epikv-mode": "kv" };
  const leaseMs = backendConfig(c.env).timeoutMs * 3 + 60_000;
  const arrivedAt = requestArrival(c);

  // From here the turn holds its conversation; the object decodes and records it to the end whatever the client does.
  const serving = (async () => {
    const start = await stub.beginTurn(request.messages, { idempotency_key: idempotencyKey, lease_ms: leaseMs, plan: false, arrived_at: arrivedAt });
    if (start.kind === "refused") throw toApiError(start.message);
    if (start.kind === "replay") return replayResponse(start.response, request.stream, request.includeUsage);
    const context = { id: `chatcmpl-${crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model: request.model ?? "epikv-kv", includeUsage: request.includeUsage };
    const outcome: { committed: Committed | null } = { committed: null };
    let events: AsyncGenerator<KvTurnEvent>;
    try {
      const stream = await (stub as unknown as KvTurnStub).kvTurn({
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        max_tokens: (p.max_completion_tokens ?? p.max_tokens) as number | undefined,
        temperature: p.temperature as number | undefined,
        seed: p.seed as number | undefined,
        kv,
        record: {
          messages: request.messages, ticket: start.ticket, idempotency_key: idempotencyKey, arrived_at: arrivedAt, stream: request.stream,
          create_id: start.settings === null ? id : undefined,
          completion: { id: context.id, created: context.created, model: context.model, headers },
        },
      });
      // The first event before any answer: a backend that is down is a 502, also for a streaming request.
      events = await peeked(kvEvents(stream, outcome));
    } catch (err) {
      await stub.endTurn(start.ticket).catch(() => {});
      throw kvTurnError(err);
    }
    const chunks = kvChatChunks(noting(events), context);
    /** The turn is recorded only once the object said so. */
    const recorded = () => {
      if (!outcome.committed) throw upstreamError(502, "the kv turn ended without being recorded", "kv_turn_incomplete");
      return outcome.committed.completion;
    };

    if (!request.stream) {
      try {
        for await (const _ of chunks);
        const completion = recorded();
        return c.json(completion, 200, headers);
      } catch (err) {
        throw kvTurnError(err);
      }
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const sink = new ClientSink(writable.getWriter());
    // The client may hang up: the object still decodes and records the turn; this only stops sending.
    waitUntil((async () => {
      try {
        for await (const chunk of chunks) await sink.send(`data: ${JSON.stringify(chunk)}\n\n`);
        recorded();
        await sink.send("data: [DONE]\n\n");
      } catch (err) {
        await sink.send(`data: ${JSON.stringify(kvTurnError(err).toBody())}\n\n`);
      } finally {
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

/** Counts pinned-handle hits and misses as the object reports them. */
async function* noting(events: AsyncIterable<KvTurnEvent>): AsyncGenerator<KvTurnEvent> {
  for await (const e of events) {
    if (e.type === "done" && e.triedHandle) (e.usedHandle ? workerMetrics().kvPinHits : workerMetrics().kvPinMisses).inc({});
    yield e;
  }
}
