// kv mode inside the conversation's Durable Object (docs/kv-mode.md,
// "Wiring"). ConversationDO.kvTurn delegates here; everything else stays in
// this folder. Per turn:
//
// 1. open the kv state (kv tables, KvMode with SQLite page and state stores;
//    one instance per object, so background writers are serialised);
// 2. mirror stored messages the kv stream has not seen yet (context mode's
//    commitTurn is the one writer of messages; kv mode reads them), one
//    page of messages at a time;
// 3. mirror episodes: each episode's representative segments (step 3) become
//    its prompt; a changed prompt queues a background rebuild;
// 4. match the query's episode (step 7: largest dot product with the
//    centroids) and decode against its cache + the uncompressed tail + query;
// 5. after the stream, fold complete blocks and run rebuilds in the
//    background (an alarm job of the object), never on the turn's path.
//
// The events go back as NDJSON over the RPC stream; the Worker turns them
// into OpenAI chunks (worker/kv/kv-chunks.ts) and commits the turn through
// commitTurn like context mode.
import type { Kernels } from "../../wasm/src/kernels";
import type { ConversationStore } from "../conversation/conversation-store";
import type { Embedder } from "../episodes/embedder";
import { matchQueryEpisode } from "../episodes/episodes";
import { segmentText } from "../episodes/segmentation";
import type { Sql } from "../storage/sql";
import { KvBackendClient, KvBackendError, type Fetcher } from "./backend-client";
import { DEFAULT_KV_SETTINGS, KvMode, type KvModeSettings } from "./kv-mode";
import { KvService, type KvChatMessage, type KvTurnEvent } from "./kv-service";
import { SqlitePageStore } from "./sqlite-page-store";
import { SqliteKvStateStore } from "./state-store";
import { KvReply, recordKvTurn, type KvTurnRecord, type KvTurnWriter } from "./kv-turn-record";

export interface KvTurnRequest {
  /** The request's messages; those after the last assistant message are the query. */
  messages: KvChatMessage[];
  max_tokens?: number;
  temperature?: number;
  seed?: number;
  /** Conversation kv settings (stored on first use; later requests may change policy/budget). */
  kv?: Partial<KvModeSettings>;
  /** Present: the object records the turn itself once decoded (kv-turn-record.ts), and says so with a {"type":"committed"} line. */
  record?: KvTurnRecord;
}

export interface KvDurableDeps {
  sql: Sql;
  store: ConversationStore;
  kernels: Kernels;
  embedder: Embedder;
  backendUrl: string | undefined;
  fetcher?: Fetcher;
  /** Asks for kvBackground() to run soon, off the turn's path (the object schedules an alarm job). */
  scheduleBackground: () => void;
  /** Keeps the object's own work alive after the caller went away (ctx.waitUntil). */
  waitUntil: (work: Promise<unknown>) => void;
  /** The object's turn writes (commitTurn, configure, endTurn). */
  writer: KvTurnWriter;
}

/** Messages mirrored per read (bounded memory, like context mode's cursors). */
const MIRROR_PAGE = 256;
/** Tail (in blocks) above which a turn folds before decoding instead of in the background. */
const CATCH_UP_BLOCKS = 4;
/** Default episode before the first clustering: the conversation's opening messages. */
const OPENING_MESSAGES = 8;

const services = new WeakMap<Sql, { key: string; service: KvService }>();

async function openService(deps: KvDurableDeps, requested: Partial<KvModeSettings> | undefined): Promise<KvService> {
  if (!deps.backendUrl) throw new KvModeError("kv mode needs a kv backend: set KV_BACKEND_URL (docs/kv-mode.md)");
  const state = new SqliteKvStateStore(deps.sql);
  const settings: KvModeSettings = { ...DEFAULT_KV_SETTINGS, ...(state.get<KvModeSettings>("settings") ?? {}), ...(requested ?? {}) };
  if (state.tokenCount() > 0 && state.get<KvModeSettings>("settings")?.blockSize !== undefined && settings.blockSize !== state.get<KvModeSettings>("settings")!.blockSize) {
    throw new KvModeError("kv blockSize cannot change once the conversation has kv state");
  }
  const key = JSON.stringify(settings) + deps.backendUrl;
  const cached = services.get(deps.sql);
  if (cached?.key === key) return cached.service;
  const client = new KvBackendClient(deps.backendUrl, deps.fetcher);
  const mode = await KvMode.open({ client, pages: new SqlitePageStore(deps.sql), state, kernels: deps.kernels }, settings);
  state.set("settings", settings);
  const service = new KvService(mode, client);
  services.set(deps.sql, { key, service });
  return service;
}

/**
 * Drops the kv mirror of the conversation (its token stream, pages, queued
 * rebuilds; the kv settings stay) after a fork superseded messages it had
 * mirrored: KV cannot be un-prefilled, so the next kv turn mirrors the live
 * conversation again from its first message. Call inside the fork's transaction.
 */
export function forgetKvMirror(sql: Sql): void {
  const mirrored = sql.first<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kv_state'`;
  services.delete(sql);
  if (!mirrored) return;
  sql.run`DELETE FROM kv_pages`;
  sql.run`DELETE FROM kv_tokens`;
  sql.run`DELETE FROM kv_rebuilds`;
  sql.run`DELETE FROM kv_state WHERE key != 'settings'`;
}

export class KvModeError extends Error {
  override name = "KvModeError";
}

async function mirrorMessages(deps: KvDurableDeps, service: KvService): Promise<void> {
  const state = new SqliteKvStateStore(deps.sql);
  let after = state.get<number>("mirrored_seq") ?? -1;
  for (;;) {
    const rows = deps.store.page(after, MIRROR_PAGE);
    if (rows.length === 0) break;
    await service.appendMessages(rows.map((r) => ({ role: r.role, content: r.content })));
    after = rows[rows.length - 1].seq;
    state.set("mirrored_seq", after);
  }
}

async function mirrorEpisodes(deps: KvDurableDeps, service: KvService): Promise<{ centroids: Float32Array; ids: number[]; dim: number }> {
  const episodes = deps.store.episodes();
  const prompts = episodes.map((e) => ({
    id: e.id,
    prompt: deps.store.segmentsById(e.representatives).map((s) => segmentText(deps.store.utterancesBetween(s.first_seq, s.last_seq))).join(""),
  }));
  const usable = prompts.filter((p) => p.prompt.length > 0);
  if (usable.length === 0) {
    // Until the first clustering: one episode on the opening messages, set once (a prompt that changed every turn would rebuild every turn).
    if (service.mode.episodes().length > 0) return { centroids: new Float32Array(0), ids: [], dim: 0 };
    const opening = deps.store.page(-1, OPENING_MESSAGES).map((r) => segmentText([{ seq: r.seq, role: r.role, content: r.content, name: r.name }])).join("");
    await service.setEpisodes([{ id: -1, prompt: opening || "conversation" }]);
    return { centroids: new Float32Array(0), ids: [], dim: 0 };
  }
  await service.setEpisodes(usable);
  const kept = episodes.filter((e) => usable.some((u) => u.id === e.id));
  const dim = kept[0].centroid.length;
  const centroids = new Float32Array(kept.length * dim);
  kept.forEach((e, i) => centroids.set(e.centroid, i * dim));
  return { centroids, ids: kept.map((e) => e.id), dim };
}

/** The query: the request's messages after its last assistant message. */
export function queryMessages(messages: readonly KvChatMessage[]): KvChatMessage[] {
  let i = messages.length;
  while (i > 0 && messages[i - 1].role !== "assistant") i--;
  const q = messages.slice(i);
  if (q.length === 0) throw new KvModeError("kv mode needs a message after the last assistant message to answer");
  return q;
}

/** Runs a kv turn; the stream carries one JSON KvTurnEvent per line (or {"type":"error",…}). */
export async function kvTurnStream(deps: KvDurableDeps, request: KvTurnRequest): Promise<ReadableStream<Uint8Array>> {
  try {
    return await startKvTurn(deps, request);
  } catch (e) {
    if (request.record?.ticket) deps.writer.release(request.record.ticket);
    // A backend failure before decoding travels as the stream's error line, not as a thrown RPC error (which workerd logs as uncaught).
    if (!(e instanceof KvBackendError)) throw e;
    const line = JSON.stringify({ type: "error", message: e.message, code: e.code }) + "\n";
    return new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(line)), c.close()) });
  }
}

/**
 * Drives the decode to its end in the object's own task (not pulled by the
 * reader: a Worker whose client hung up stops reading), writing each event
 * to the returned stream while anyone reads it, then records the turn.
 */
function pumpKvTurn(deps: KvDurableDeps, events: AsyncGenerator<KvTurnEvent>, record: KvTurnRecord | undefined): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let readerGone = false;
  // Not awaited: a reader that stopped must not hold up the decode (a reply is at most max_tokens events).
  const send = (line: unknown) => {
    if (!readerGone) writer.write(encoder.encode(JSON.stringify(line) + "\n")).catch(() => (readerGone = true));
  };
  const reply = new KvReply();
  deps.waitUntil((async () => {
    try {
      for await (const e of events) {
        reply.add(e, Date.now());
        send(e satisfies KvTurnEvent);
      }
      deps.scheduleBackground();
      if (record) send({ type: "committed", completion: await recordKvTurn(deps.writer, record, reply, Date.now()) });
    } catch (e) {
      if (record?.ticket) deps.writer.release(record.ticket);
      send({ type: "error", message: (e as Error).message, code: (e as { code?: string }).code ?? "kv_backend_error" });
    } finally {
      await writer.close().catch(() => {});
    }
  })());
  return readable;
}

async function startKvTurn(deps: KvDurableDeps, request: KvTurnRequest): Promise<ReadableStream<Uint8Array>> {
  const service = await openService(deps, request.kv);
  await mirrorMessages(deps, service);
  const { centroids, ids, dim } = await mirrorEpisodes(deps, service);
  const query = queryMessages(request.messages);
  // Catch-up (a long history imported before its first kv turn): the tail must fit one decode call, so fold now.
  const m = service.mode;
  if (m.tokenCount() - m.folded() > Math.min(m.model.maxInputTokens / 2, CATCH_UP_BLOCKS * m.settings.blockSize)) await m.fold();
  let episode: number | null = null;
  if (ids.length > 0) {
    const [vec] = await deps.embedder.embed([query.map((m) => m.content).join("\n")]);
    const match = matchQueryEpisode(deps.kernels, vec, centroids, dim);
    episode = match.index >= 0 ? ids[match.index] : null;
  }
  const events = service.decode(query, episode, { maxTokens: request.max_tokens ?? 256, temperature: request.temperature, seed: request.seed, pinTtlS: service.mode.settings.pinTtlS });
  return pumpKvTurn(deps, events, request.record);
}

/** Background work on its own (for an alarm): fold blocks, run queued rebuilds. */
export async function kvBackground(deps: KvDurableDeps): Promise<void> {
  const service = await openService(deps, undefined);
  await mirrorMessages(deps, service);
  await service.background();
}
