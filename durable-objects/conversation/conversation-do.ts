// One Durable Object per conversation: owns its episodic state in SQLite and
// decides each turn's context (DESIGN.md). The class orchestrates; the
// algorithms are pure modules beside it (hash-chain, segmentation,
// episodes, episode-refit, select-context, token-estimator, bucket-idf,
// top-terms, segment-index), and all SQL goes through conversation-store.ts.
//
// Writes: importMessages, commitTurn and the alarm each write in one
// transactionSync, so they are all-or-nothing; writers are serialised with
// blockConcurrencyWhile (embedding may await a remote endpoint first).
// planTurn and previewContext only read.
//
// Memory stays bounded as a conversation grows (the 128 MB isolate limit):
// - a turn never reads the conversation's text: message metadata for pinned
//   and recent messages, the E centroids, and relevance scores of the
//   segments from the in-memory SegmentIndex (IDF-weighted unit vectors,
//   1.5 KB per segment, one SIMD scan and a top-k per episode, merged lazily by
//   rank-candidates.ts;
//   built from SQLite on first use, appended after each committed turn,
//   rebuilt by the alarm). Past MAX_INDEXED_SEGMENTS (48 MB) the index is
//   dropped and the matched episode's embeddings are streamed from SQLite in
//   batches of EMBEDDING_BATCH through a cursor, keeping only (segment,
//   score) pairs, at most MAX_SCORED_SEGMENTS; other episodes contribute
//   only their REPRESENTATIVES_PER_EPISODE representatives;
// - ranked segments are widened lazily from the in-memory message metadata
//   (message-meta.ts, 8 bytes per message, at most MAX_META_MESSAGES), at
//   most rankLimit(budget) per turn (and at most MAX_CONSECUTIVE_SKIPS
//   misses in a row), and only the chosen messages' text is loaded (bounded
//   by the budget), in one query through a bounded LRU (message-cache.ts);
// - appending reads only the open segment tail (< window utterances);
// - the alarm's k-means fits at most MAX_FIT_SEGMENTS vectors (12.6 MB at
//   384 dims), then assigns every segment in streamed batches.
// What still grows linearly: the importMessages argument itself, and
// episodes() listing every segment id.
import { DurableObject } from "cloudflare:workers";
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { bundledKernels, kernelsModule } from "../../wasm/src/bundled";
import type { Kernels } from "../../wasm/src/kernels";
import { addDocumentFrequency, reweight, reweightRows } from "../episodes/bucket-idf";
import type {
  ChatMessage, ContextMessage, ContextSelection, ConversationApi, ConversationInfo, ConversationSettings, ConversationStats,
  EpisodeView, ImportResult, MessagePage, StoredMessage, TurnPlan, Usage,
} from "./conversation-api";
import { conversationErrorCode, conversationIdOfObjectName, InvalidConversationRequestError } from "./conversation-api";
import { ConversationStore, fromBlob, storedMessage, type EpisodeRow, type MessageMetaRow, type MessageRow, type SegmentRow } from "./conversation-store";
import { embedderFromEnv, type Embedder } from "../episodes/embedder";
import type { ConversationEnv } from "./env";
import { assignOnline, shouldRecluster, type OnlineCentroid } from "../episodes/episodes";
import { chainNext, matchRequest, messageDigest, messageId } from "./hash-chain";
import { queryText, validateMessage, validateMessages } from "./message-validation";
import { closeWindows, type SegmentSpan } from "../episodes/segmentation";
import { MAX_INDEXED_SEGMENTS, reusingFactory, SegmentIndex } from "../selection/segment-index";
import { MessageMeta } from "../selection/message-meta";
import { MessageCache } from "../selection/message-cache";
import { selectContext, type Candidate, type MessageRef } from "../selection/select-context";
import {
  DEFAULT_RANKING, orderSpans, rankedLoopBounds, rankedSpans, rankLimit, routeQuery, spanCandidates, type ScoredSpan,
} from "../selection/rank-candidates";
import { mergeSettings, DEFAULT_SETTINGS } from "./settings";
import { applyRefit, planRefit } from "../episodes/episode-refit";
import { migrate } from "./schema";
import { sqlOver } from "../storage/sql";
import { kvBackground, kvTurnStream, type KvDurableDeps, type KvTurnRequest } from "../kv/kv-durable";

/** Alarm job: fold complete blocks into kv mode's episode caches and run queued rebuilds. */
const KV_BACKGROUND_JOB = "kv_background";
import {
  calibrateCharsPerToken, DEFAULT_CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, messageWeight, REPLY_PRIMING_TOKENS, tokensForWeight,
} from "../selection/token-estimator";
import { groupUnits, unitHeadFor } from "./tool-units";
import { TurnQueue } from "./turn-queue";
import { sentPlan } from "./sent-plan";
import { DEFAULT_TURN_LEASE_MS, MAX_TURN_LEASE_MS, MAX_WAITING_TURNS, type BeginTurnOptions, type CommitTurnOptions, type TurnStart } from "./turn-api";
import { resolveHistory, liveBefore, type HistoryDecision } from "./history-divergence";
import { appendBase, supersedeFrom } from "./fork";
import { pinnedBackend, recordRouting, releaseExpiredPin, requestFingerprint, saveTurn, storedTurn, UNPIN_JOB, validIdempotencyKey } from "./turn-session";

export const EMBEDDING_BATCH = 512;
export const MAX_SCORED_SEGMENTS = 16_384;
export { MAX_CONSECUTIVE_SKIPS, MAX_RANKED_CANDIDATES } from "../selection/rank-candidates";
/** Rows per SQL read when building the in-memory message metadata. */
export const META_BATCH = 8192;
/** Messages the metadata mirror covers at most (8 bytes each: 16 MB); past it candidates are widened with SQL reads. */
export const MAX_META_MESSAGES = 2_000_000;
/** Characters of message text the per-object cache keeps (≈ 2 MB; a 4k-token context is ≈ 16k characters). */
export const MESSAGE_CACHE_CHARS = 1 << 20;
export const MAX_PAGE = 1000;
/** Delay before a scheduled re-clustering runs (lets a burst of turns land first). */
export const RECLUSTER_DELAY_MS = 5000;

export class ConversationDO extends DurableObject<ConversationEnv> implements ConversationApi {
  private readonly store: ConversationStore;
  private embedderInstance: Embedder | undefined;
  /** In-memory relevance index of the segments (segment-index.ts); null until built, or when too large. */
  private index: SegmentIndex | null = null;
  /** In-memory token weights and tool-unit heads of every message (message-meta.ts); null until first needed. */
  private meta: MessageMeta | null = null;
  /** Rows of recently selected messages (message-cache.ts): consecutive turns send largely the same ones. */
  private readonly texts = new MessageCache(MESSAGE_CACHE_CHARS);
  private idfParsed: { raw: string; idf: Float32Array } | null = null;
  /** Chat turns in arrival order, plan to commit (turn-queue.ts; docs/reliability.md). */
  private readonly turns = new TurnQueue({ maxWaiting: MAX_WAITING_TURNS });

  constructor(ctx: DurableObjectState, env: ConversationEnv) {
    super(ctx, env);
    this.store = new ConversationStore(sqlOver(ctx.storage.sql), (fn) => ctx.storage.transactionSync(fn));
    this.store.transaction(() => migrate(this.store.sql));
  }

  private kernels(): Kernels {
    return bundledKernels();
  }
  private embedder(): Embedder {
    this.embedderInstance ??= embedderFromEnv(this.env, () => this.kernels());
    return this.embedderInstance;
  }

  /** kv mode: a turn decoded against this conversation's episodic KV cache, as NDJSON events (durable-objects/kv/kv-durable.ts, docs/kv-mode.md). */
  async kvTurn(request: KvTurnRequest): Promise<ReadableStream<Uint8Array>> {
    return kvTurnStream(this.kvDeps(), request);
  }

  /** kv mode's dependencies; its background work (folds, rebuilds) runs as the alarm job KV_BACKGROUND_JOB. */
  private kvDeps(): KvDurableDeps {
    const scheduleBackground = () => {
      this.store.schedule(KV_BACKGROUND_JOB, Date.now());
      this.ctx.waitUntil(this.armAlarm());
    };
    return { sql: this.store.sql, store: this.store, kernels: this.kernels(), embedder: this.embedder(), backendUrl: this.env.KV_BACKEND_URL, scheduleBackground };
  }
  private charsPerToken(): number {
    return Number(this.store.meta("chars_per_token") ?? DEFAULT_CHARS_PER_TOKEN);
  }
  private settingsOrDefault(): ConversationSettings {
    return this.store.settings() ?? { ...DEFAULT_SETTINGS };
  }

  /** Creates the conversation rows if absent (turns and imports on an unconfigured id). */
  private ensureCreated(id?: string): void {
    if (this.store.exists()) return;
    this.store.setMeta("id", id ?? conversationIdOfObjectName(this.ctx.id.name ?? this.ctx.id.toString()));
    this.store.setMeta("created_at", String(Date.now()));
    this.store.setMeta("settings", JSON.stringify(DEFAULT_SETTINGS));
    this.store.setMeta("chars_per_token", String(DEFAULT_CHARS_PER_TOKEN));
  }

  // --- RPC: lifecycle ------------------------------------------------------
  async configure(id: string, settings: Partial<ConversationSettings>): Promise<ConversationInfo> {
    if (typeof id !== "string" || id.length === 0 || id.length > 200) throw new InvalidConversationRequestError("conversation id must be a non-empty string of at most 200 characters");
    const merged = mergeSettings(this.settingsOrDefault(), settings);
    this.store.transaction(() => {
      const before = this.store.settings();
      this.ensureCreated(id);
      this.store.setMeta("settings", JSON.stringify(merged));
      if (before && before.episodes !== merged.episodes && this.store.counter("segments") > 0) this.store.schedule("recluster", Date.now());
    });
    await this.armAlarm();
    return (await this.info())!;
  }

  async info(): Promise<ConversationInfo | null> {
    if (!this.store.exists()) return null;
    const cpt = this.charsPerToken();
    const messages = this.store.counter("messages");
    return {
      id: conversationIdOfObjectName(this.store.meta("id")!), // ids stored before the tenant was stripped
      created_at: Number(this.store.meta("created_at")),
      settings: this.settingsOrDefault(),
      message_count: messages,
      segment_count: this.store.counter("segments"),
      episode_count: this.store.episodes().length,
      total_tokens: this.conversationTokens(cpt),
      chars_per_token: cpt,
      memory: { index_segments: this.index?.size ?? 0, index_bytes: this.index?.bytes ?? 0, message_meta_bytes: this.meta?.bytes ?? 0, message_cache_bytes: this.texts.bytes },
      recluster_pending: this.store.hasJob("recluster"),
    };
  }

  async stats(): Promise<ConversationStats | null> {
    if (!this.store.exists()) return null;
    return { turns: this.store.counter("turns"), reclusters: this.store.counter("reclusters") };
  }

  async destroy(): Promise<boolean> {
    const existed = this.store.exists() || this.store.counter("messages") > 0;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.index = null;
    this.meta = null;
    this.texts.clear();
    this.store.transaction(() => migrate(this.store.sql));
    this.store.forgetCached(); // storage was deleted underneath the cached rows
    return existed;
  }

  // --- RPC: messages -------------------------------------------------------
  async importMessages(messages: ChatMessage[], idempotencyKey?: string): Promise<ImportResult> {
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || idempotencyKey.length === 0 || idempotencyKey.length > 256)) {
      throw new InvalidConversationRequestError("Idempotency-Key must be a non-empty string of at most 256 characters");
    }
    const valid = validateMessages(messages, { allowEmpty: true });
    return this.serialised(async () => {
      // The key is bound to the request: the chain value of its messages (order and content).
      const fingerprint = valid.reduce((c, m) => chainNext(c, messageDigest(m)), "");
      if (idempotencyKey) {
        const previous = this.store.importResult<ImportResult & { fingerprint?: string }>(idempotencyKey);
        if (previous) {
          if (previous.fingerprint !== undefined && previous.fingerprint !== fingerprint) {
            throw new InvalidConversationRequestError("this Idempotency-Key was already used with different messages");
          }
          const { fingerprint: _f, ...result } = previous;
          return { ...result, replayed: true };
        }
      }
      const match = matchRequest(valid, this.store.chainView(this.store.counter("messages")));
      const appended = match.newIndices.map((i) => valid[i]!);
      let result!: ImportResult;
      await this.append(appended, null, null, () => {
        result = { appended: appended.length, duplicates: match.duplicates, message_count: this.store.counter("messages"), replayed: false };
        if (idempotencyKey) this.store.saveImportResult(idempotencyKey, { ...result, fingerprint }, Date.now());
      });
      return result;
    });
  }

  async listMessages(after = -1, limit = 100, includeSuperseded = false): Promise<MessagePage> {
    if (!Number.isInteger(after) || after < -1) throw new InvalidConversationRequestError("after must be an integer ≥ -1");
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidConversationRequestError(`limit must be an integer in [1, ${MAX_PAGE}]`);
    const rows = this.store.page(after, limit + 1);
    const more = rows.length > limit;
    const messages = rows.slice(0, limit).map(storedMessage);
    const next_after = more ? messages[messages.length - 1]!.seq : null;
    if (!includeSuperseded) return { messages, next_after };
    return { messages: withSuperseded(messages, this.store.supersededBetween(after, next_after ?? Number.MAX_SAFE_INTEGER)), next_after };
  }

  async episodes(): Promise<EpisodeView[]> {
    return this.store.episodes().map((e) => ({
      id: e.id,
      size: e.size,
      segments: this.store.segmentsOfEpisode(e.id).map((s) => ({ id: s.id, first_seq: s.first_seq, last_seq: s.last_seq, score: s.score })),
      representative_segments: e.representatives,
      top_terms: e.top_terms,
    }));
  }

  // --- RPC: turns ----------------------------------------------------------
  async previewContext(query: string, budgetTokens?: number): Promise<ContextSelection> {
    if (typeof query !== "string") throw new InvalidConversationRequestError("query must be a string");
    return this.selectFor(query, this.budget(budgetTokens), []);
  }

  async planTurn(messages: ChatMessage[], options?: { budget_tokens?: number; arrived_at?: number }): Promise<TurnPlan> {
    const valid = validateMessages(messages, { allowEmpty: false });
    const match = this.history(valid, options?.arrived_at);
    const fresh = match.newIndices.map((i) => valid[i]!);
    const context = await this.selectFor(queryText(fresh, valid), this.budget(options?.budget_tokens), fresh, match.forkAt);
    return { new_messages: fresh.length, context };
  }

  async commitTurn(messages: ChatMessage[], reply: ChatMessage, usage?: Usage, sentTokens?: number, options: CommitTurnOptions = {}): Promise<{ message_count: number; appended: number }> {
    try {
      const valid = validateMessages(messages, { allowEmpty: false });
      const answer = validateMessage(reply, "reply");
      if (answer.role !== "assistant") throw new InvalidConversationRequestError("reply.role must be assistant");
      const key = validIdempotencyKey(options.idempotency_key);
      return await this.serialised(async () => {
        // Holding the object (blockConcurrencyWhile: later calls queue behind this write),
        // let the runtime first send the response the Worker returned right after making
        // this call: where the Worker and the object share a thread (one workerd process),
        // the append's ≈ 1 ms of CPU would otherwise delay it.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const match = this.history(valid, options.arrived_at);
        const fresh = match.newIndices.map((i) => valid[i]!);
        const appended = [...fresh, answer];
        await this.append(appended, match.forkAt, validTime(options.visible_at), () => {
          if (usage && typeof sentTokens === "number") {
            this.store.setMeta("chars_per_token", String(calibrateCharsPerToken(this.charsPerToken(), sentTokens, usage.prompt_tokens)));
          }
          this.store.addCounter("turns", 1);
          // Same transaction as the messages: a retry either finds the result or finds nothing appended.
          if (key && options.response) saveTurn(this.store, key, requestFingerprint(valid), options.response, Date.now());
          if (options.backend) recordRouting(this.store, fresh, answer, options.backend, options.arrived_at ?? Date.now(), Date.now());
        });
        return { message_count: this.store.counter("messages"), appended: appended.length };
      });
    } finally {
      if (options.ticket) this.turns.release(options.ticket);
    }
  }

  async beginTurn(messages: ChatMessage[], options: BeginTurnOptions = {}): Promise<TurnStart> {
    const key = validIdempotencyKey(options.idempotency_key);
    const lease = Math.min(MAX_TURN_LEASE_MS, Math.max(1000, Number.isFinite(options.lease_ms) ? options.lease_ms! : DEFAULT_TURN_LEASE_MS));
    let ticket: string;
    try {
      ticket = await this.turns.acquire(lease);
    } catch (err) {
      if (conversationErrorCode(err)) return { kind: "refused", message: (err as Error).message }; // conversation_busy
      throw err;
    }
    try {
      if (key) {
        const stored = storedTurn(this.store, key, requestFingerprint(validateMessages(messages, { allowEmpty: false })));
        if (stored) {
          this.turns.release(ticket);
          return { kind: "replay", response: stored };
        }
      }
      const [info, plan] = [await this.info(), options.plan === false ? null : await this.planTurn(messages, { budget_tokens: options.budget_tokens, arrived_at: options.arrived_at })];
      return { kind: "go", ticket, info, plan: plan && sentPlan(plan), pinned_backend: pinnedBackend(this.store, Date.now()) };
    } catch (err) {
      this.turns.release(ticket);
      if (conversationErrorCode(err)) return { kind: "refused", message: (err as Error).message };
      throw err;
    }
  }

  async endTurn(ticket: string): Promise<boolean> {
    return typeof ticket === "string" && this.turns.release(ticket);
  }

  // --- alarm: deferred re-clustering --------------------------------------
  async alarm(): Promise<void> {
    // Jobs due within the coalescing delay run now too (an alarm fired early, e.g. by tests, still does the work).
    for (const job of this.store.dueJobs(Date.now() + RECLUSTER_DELAY_MS)) {
      if (job.kind === UNPIN_JOB) {
        this.store.deleteJob(UNPIN_JOB);
        releaseExpiredPin(this.store, Date.now()); // re-schedules a pin that still holds (this alarm may run early)
        continue;
      }
      if (job.kind === KV_BACKGROUND_JOB) {
        this.store.deleteJob(KV_BACKGROUND_JOB);
        // A failure leaves the caches as they were (each fold/rebuild writes in one transaction); the next turn schedules it again.
        await kvBackground(this.kvDeps()).catch((e) => console.error("kv background work failed:", e));
        continue;
      }
      if (job.kind === "recluster") {
        this.recluster();
        // Rebuild here, in the background, not on the next turn, into the old index's WASM memories.
        const old = this.index;
        this.index = null;
        this.segmentIndex(old);
      }
      this.store.deleteJob(job.kind);
    }
    await this.armAlarm();
  }

  // --- internals -----------------------------------------------------------
  private budget(requested: number | undefined): number {
    if (requested === undefined || requested === null) return this.settingsOrDefault().budget_tokens;
    if (!Number.isInteger(requested) || requested < 1) throw new InvalidConversationRequestError("budget_tokens must be a positive integer");
    return requested;
  }

  /** How the request's messages relate to the stored history under this conversation's history setting (history-divergence.ts). */
  private history(valid: readonly ChatMessage[], arrivedAt: number | undefined): HistoryDecision {
    const count = this.store.counter("messages");
    const mode = this.settingsOrDefault().history ?? "fork";
    const lastRole = (this.store.lastMessage()?.role ?? null) as ChatMessage["role"] | null;
    // What the request's client could have seen: messages that became visible before it arrived (created_at is that time).
    const at = validTime(arrivedAt);
    const seen = at === null ? undefined : this.store.countCreatedBefore(at, count);
    return resolveHistory(valid, this.store.chainView(count), { mode, seen, lastRole });
  }

  /** Drops the in-memory mirrors of the live tables (rebuilt from storage on next use). */
  private forgetMirrors(): void {
    this.index = null;
    this.meta = null;
    this.texts.clear();
  }

  private conversationTokens(cpt: number): number {
    return Math.ceil(this.store.counter("weight") / cpt) + MESSAGE_OVERHEAD_TOKENS * this.store.counter("messages");
  }

  /**
   * Runs a writer with no other event interleaving (embedding may await).
   * Errors are carried out of blockConcurrencyWhile and re-thrown here,
   * because an exception escaping it would reset the whole object.
   */
  private async serialised<T>(fn: () => Promise<T>): Promise<T> {
    const outcome = await this.ctx.blockConcurrencyWhile(async () => {
      try {
        return { ok: true as const, value: await fn() };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  private async armAlarm(): Promise<void> {
    const at = this.store.earliestJob();
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /**
   * Appends messages (hash chain, token estimate, tool units), closes full
   * segment windows, embeds them, assigns them online to episodes, and runs
   * `extra` — all in one transaction. Embedding happens before it.
   */
  private async append(messages: readonly ChatMessage[], forkAt: number | null, visibleAt: number | null, extra: () => void): Promise<void> {
    const settings = this.settingsOrDefault();
    const cpt = this.charsPerToken();
    const now = Date.now();
    const createdAt = visibleAt ?? now;
    // The conversation as it is once the fork (if any) applied: the new messages continue the live prefix.
    const base = appendBase(this.store, forkAt, settings.window);
    const last = base.last;
    const rows: MessageRow[] = [];
    let chain = last?.chain ?? "";
    let link = last ? { seq: last.seq, role: last.role, hasToolCalls: last.tool_calls !== null, unitHead: last.unit_head } : null;
    let seq = base.nextSeq;
    for (const m of messages) {
      const digest = messageDigest(m);
      chain = chainNext(chain, digest);
      const weight = messageWeight(m);
      const unitHead = unitHeadFor(link, { seq, role: m.role });
      rows.push({
        seq, id: messageId(chain), role: m.role, content: m.content, name: m.name ?? null, tool_call_id: m.tool_call_id ?? null,
        tool_calls: m.tool_calls?.length ? JSON.stringify(m.tool_calls) : null, tokens: tokensForWeight(weight, cpt),
        digest, chain, created_at: createdAt, weight, unit_head: unitHead,
      });
      link = { seq, role: m.role, hasToolCalls: !!m.tool_calls?.length, unitHead };
      seq++;
    }
    const { segments } = closeWindows(base.tail, rows, settings.window);
    const embedder = this.embedder();
    const vectors = segments.length ? await embedder.embed(segments.map((s) => s.text)) : [];

    let indexed: IndexedSegment[] = [];
    this.store.transaction(() => {
      this.ensureCreated();
      if (forkAt !== null) supersedeFrom(this.store, forkAt, now, { reclusterAt: now + RECLUSTER_DELAY_MS });
      if (rows.length) this.store.insertMessages(rows);
      this.store.addCounter("messages", rows.length);
      this.store.addCounter("weight", rows.reduce((s, r) => s + r.weight, 0));
      indexed = this.addSegments(segments, vectors, embedder, settings.episodes, base.nextSegmentId);
      extra();
    });
    // A fork removed rows the in-memory mirrors hold: they are rebuilt from storage on next use.
    if (forkAt !== null) this.forgetMirrors();
    // Only after the transaction committed: the in-memory mirrors follow storage.
    if (this.meta) {
      if ((rows.length && rows[0]!.seq !== this.meta.count) || this.meta.count + rows.length > MAX_META_MESSAGES) this.meta = null;
      else for (const r of rows) this.meta.append(r.seq, r.weight, r.unit_head);
    }
    if (this.index) {
      if (this.index.size + indexed.length > MAX_INDEXED_SEGMENTS) this.index = null;
      else for (const x of indexed) this.index.append(x.id, x.episode, x.first, x.last, x.vec);
    }
    await this.armAlarm();
  }

  /** Stores new segments, counts their buckets, assigns them online; schedules a re-clustering when due. */
  private addSegments(segments: readonly SegmentSpan[], vectors: readonly Float32Array[], embedder: Embedder, k: number, firstId: number): IndexedSegment[] {
    if (!segments.length) return [];
    const storedEmbedder = this.store.meta("embedder");
    if (storedEmbedder === null) {
      this.store.setMeta("embedder", embedder.name);
      this.store.setMeta("dim", String(vectors[0]!.length));
    } else if (storedEmbedder !== embedder.name) {
      throw new Error(`this conversation's segments were embedded with ${storedEmbedder}, the configured embedder is ${embedder.name}; start a new conversation after changing EMBEDDINGS_URL`);
    }
    const dim = vectors[0]!.length;
    const df = new Float64Array(this.store.metaJson<number[]>("bucket_df") ?? new Array(dim).fill(0));
    const idf = this.clusterIdf();
    const episodes: (OnlineCentroid & Partial<EpisodeRow>)[] = this.store.episodes();
    const touched = new Set<number>();
    let nextId = this.store.counter("next_episode_id");
    let cosineSum = 0;
    const indexed: IndexedSegment[] = [];
    const stored: { segment: SegmentRow; vec: Float32Array }[] = [];
    segments.forEach((s, i) => {
      const vec = vectors[i]!;
      if (embedder.usesIdf) addDocumentFrequency(df, vec);
      const weighted = reweight(vec, idf);
      const assigned = assignOnline(episodes, weighted, k, () => nextId++);
      touched.add(assigned.id);
      cosineSum += assigned.cosine;
      stored.push({ segment: { id: firstId + i, first_seq: s.first_seq, last_seq: s.last_seq, episode: assigned.id, score: assigned.cosine }, vec });
      indexed.push({ id: firstId + i, episode: assigned.id, first: s.first_seq, last: s.last_seq, vec: weighted });
    });
    this.store.insertSegments(stored);
    // Online seeds get representatives and top terms at the next full clustering.
    for (const e of episodes) if (touched.has(e.id)) this.store.saveEpisode({ id: e.id, centroid: e.centroid, size: e.size, representatives: e.representatives ?? [], top_terms: e.top_terms ?? [] });
    this.store.setCounter("next_episode_id", nextId);
    if (embedder.usesIdf) this.store.setMeta("bucket_df", JSON.stringify(Array.from(df)));
    this.store.addCounter("segments", segments.length);
    this.store.addCounter("since_fit", segments.length);
    this.store.addCounter("online_cosine_sum", cosineSum);
    const due = shouldRecluster({
      segments: this.store.counter("segments"),
      sinceFit: this.store.counter("since_fit"),
      atFit: this.store.counter("at_fit"),
      fitMeanCosine: Number(this.store.meta("fit_mean_cosine") ?? 0),
      onlineCosineSum: this.store.counter("online_cosine_sum"),
      episodesWanted: k,
    });
    if (due) this.store.schedule("recluster", Date.now() + RECLUSTER_DELAY_MS);
    return indexed;
  }

  /**
   * The segment index, built from SQLite on first use (null when there are
   * no segments or too many); `reuse`: a previous index whose row stores the
   * build fills again (same dim), so a rebuild does not double the memory.
   */
  private segmentIndex(reuse: SegmentIndex | null = null): SegmentIndex | null {
    if (this.index) return this.index;
    const n = this.store.counter("segments");
    const dim = Number(this.store.meta("dim") ?? 0);
    if (n === 0 || dim === 0 || n > MAX_INDEXED_SEGMENTS) return null;
    const idf = this.clusterIdf();
    const create = (capacity: number, d: number) => ResidentColumns.create(kernelsModule, capacity, d);
    const pool = reusingFactory(reuse && reuse.dim === dim ? reuse.release() : [], create);
    const index = new SegmentIndex(pool.factory, dim);
    for (const { episode, n } of this.store.segmentCountsByEpisode()) index.reserve(episode ?? -1, n);
    for (let after = 0; ; ) {
      const batch = this.store.embeddingBatch(after, EMBEDDING_BATCH, null);
      if (!batch.length) break;
      for (const s of batch) index.append(s.id, s.episode ?? -1, s.first_seq, s.last_seq, reweight(fromBlob(s.vec), idf));
      after = batch[batch.length - 1]!.id;
    }
    pool.done();
    this.index = index;
    return index;
  }

  /** The message metadata mirror, built from SQLite on first use (null past MAX_META_MESSAGES: SQL reads then). */
  private messageMeta(): MessageMeta | null {
    if (this.meta) return this.meta;
    if (this.store.counter("messages") > MAX_META_MESSAGES) return null;
    const meta = new MessageMeta();
    for (let after = -1; ; ) {
      const batch = this.store.messageMetaBatch(after, META_BATCH);
      if (!batch.length) break;
      for (const r of batch) meta.append(r.seq, r.weight, r.unit_head);
      after = batch[batch.length - 1]!.seq;
    }
    this.meta = meta;
    return meta;
  }

  /** IDF snapshot of the last full clustering (null before it, or for remote embedders). */
  /** The IDF of the last full clustering, parsed once per stored value (every turn weights its query with it). Read-only. */
  private clusterIdf(): Float32Array | null {
    const raw = this.store.meta("cluster_idf");
    if (raw === null) return null;
    if (this.idfParsed?.raw !== raw) this.idfParsed = { raw, idf: Float32Array.from(JSON.parse(raw) as number[]) };
    return this.idfParsed.idf;
  }

  /** Full k-means re-clustering (alarm only): compute from storage, then write in one transaction. */
  private recluster(): void {
    const plan = planRefit(this.store, this.kernels(), this.settingsOrDefault().episodes, this.embedder().usesIdf);
    if (plan) this.store.transaction(() => applyRefit(this.store, plan));
  }

  /** Chooses the context for `query` plus the turn's new messages (reads only). */
  private async selectFor(query: string, budget: number, turn: readonly ChatMessage[], forkAt: number | null = null): Promise<ContextSelection> {
    const cpt = this.charsPerToken();
    const settings = this.settingsOrDefault();
    // Under a pending fork only the messages before it are the conversation (the rest are about to be superseded).
    const live = liveBefore(forkAt);
    const count = forkAt ?? this.store.counter("messages");
    const refs = (rows: readonly MessageMetaRow[]): MessageRef[] => rows.map((r) => ({ seq: r.seq, tokens: tokensForWeight(r.weight, cpt) }));
    const turnTokens = turn.map((m) => tokensForWeight(messageWeight(m), cpt));

    const required: Candidate[] = this.store.pinnedMeta().filter((r) => live(r.seq)).map((r) => ({ messages: refs([r]), provenance: { kind: "pinned" } }));
    if (turn[0]?.role === "tool" && count > 0 && forkAt === null) {
      // The new tool result answers a stored assistant tool call: send the whole unit.
      const last = this.store.lastMessage()!;
      required.push({ messages: refs(this.store.unitWidenedMeta(last.unit_head, last.seq)), provenance: { kind: "recent" } });
    }
    const recentRows = this.store.recentMeta(settings.recent_messages, count).filter((r) => live(r.seq));
    const recent: Candidate[] = groupUnits(recentRows.map((r) => ({ ...r, unitHead: r.unit_head })))
      .reverse()
      .map((unit) => ({ messages: refs(unit), provenance: { kind: "recent" } }));

    const routed = await this.routedQuery(query);
    // No await from here to selectContext: the ranked sequence is lazy (rank-candidates.ts rankedSpans) and must be consumed before the index changes.
    const rankedAll = routed ? this.rankedSegments(routed, refs, rankLimit(budget, settings.window)) : [];
    const ranked = forkAt === null ? rankedAll : liveCandidates(rankedAll, live);
    const matched = routed ? routed.matched.id : null;
    const result = selectContext({
      budgetTokens: budget, baseTokens: REPLY_PRIMING_TOKENS, required, turnTokens, recent, ranked,
      ...rankedLoopBounds(settings.window),
    });

    const rows = this.texts.get(result.stored.map((s) => s.seq), (missing) => this.store.messagesBySeq(missing));
    const messages: ContextMessage[] = result.stored.map((s) => {
      const stored = storedMessage(rows.get(s.seq)!);
      return { ...contextFields(stored), seq: s.seq, id: stored.id, tokens: s.tokens, provenance: s.provenance };
    });
    turn.forEach((m, i) => messages.push({ ...contextFields(m), seq: null, id: null, tokens: turnTokens[i]!, provenance: { kind: "turn" } }));
    return { messages, matched_episode: matched, budget_tokens: budget, used_tokens: result.usedTokens, conversation_tokens: this.conversationTokens(cpt) };
  }

  /** The query's weighted embedding and the episode it is routed to (null: no episodes yet, or an empty query). */
  private async routedQuery(query: string): Promise<RoutedQuery | null> {
    const episodes: EpisodeRow[] = this.store.episodes();
    if (!episodes.length || query.trim() === "") return null;
    const dim = episodes[0]!.centroid.length;
    const idf = this.clusterIdf();
    const [raw] = await this.embedder().embed([query]);
    if (raw!.length !== dim) throw new Error(`query embedding has ${raw!.length} dims, episodes ${dim}`);
    const q = reweight(raw!, idf);
    return { q, idf, dim, episodes, matched: routeQuery(this.kernels(), q, episodes, DEFAULT_RANKING.route)! };
  }

  /**
   * Ranked segments (rank-candidates.ts: relevance with the matched
   * episode's bonus), as a lazy sequence of widened candidates: selection
   * usually stops after a few dozen, so only those are ranked past the
   * first chunks and widened.
   */
  private rankedSegments({ q, idf, dim, episodes, matched }: RoutedQuery, refs: (rows: readonly MessageMetaRow[]) => MessageRef[], limit: number): Iterable<Candidate> {
    const segmentIndex = this.segmentIndex();
    const order = segmentIndex
      ? rankedSpans(segmentIndex, q, matched, episodes, DEFAULT_RANKING, limit)
      : this.rankStreamed(q, idf, dim, matched, episodes, limit);
    const meta = this.messageMeta();
    const store = this.store;
    // Widened lazily from the in-memory metadata (no SQL).
    const widen = (first: number, last: number) => refs(meta ? meta.unitWidened(first, last) : store.unitWidenedMeta(first, last));
    return spanCandidates(order, widen, limit);
  }

  /**
   * Relevance streamed from SQLite in batches (conversations past
   * MAX_INDEXED_SEGMENTS): the matched episode's segments, and only the
   * other episodes' representatives (a full scan would read every embedding).
   */
  private rankStreamed(q: Float32Array, idf: Float32Array | null, dim: number, matched: EpisodeRow, episodes: readonly EpisodeRow[], limit: number): ScoredSpan[] {
    const kernels = this.kernels();
    const score = (rows: Float32Array) => {
      reweightRows(rows, dim, idf);
      return kernels.cosineScores(q, rows, dim);
    };
    const matchedScored: ScoredSpan[] = [];
    for (let after = 0; ; ) {
      const batch = this.store.embeddingBatch(after, EMBEDDING_BATCH, matched.id);
      if (!batch.length) break;
      const rows = new Float32Array(batch.length * dim);
      batch.forEach((s, i) => rows.set(new Float32Array(s.vec), i * dim));
      const scores = score(rows);
      batch.forEach((s, i) => matchedScored.push({ id: s.id, first: s.first_seq, last: s.last_seq, episode: matched.id, score: scores[i]! }));
      if (matchedScored.length > MAX_SCORED_SEGMENTS) matchedScored.splice(0, matchedScored.length - MAX_SCORED_SEGMENTS);
      after = batch[batch.length - 1]!.id;
    }
    const otherIds = episodes.filter((e) => e.id !== matched.id).flatMap((e) => e.representatives);
    const otherSegments = this.store.segmentsById(otherIds);
    const otherVectors = this.store.embeddingsById(otherIds);
    const otherRows = new Float32Array(otherSegments.length * dim);
    otherSegments.forEach((s, i) => otherRows.set(otherVectors.get(s.id)!, i * dim));
    const otherScores = otherSegments.length ? score(otherRows) : new Float32Array(0);
    const othersScored = otherSegments.map((s, i) => ({ id: s.id, first: s.first_seq, last: s.last_seq, episode: s.episode ?? -1, score: otherScores[i]! }));
    return orderSpans(matchedScored, othersScored, DEFAULT_RANKING.matchBonus, limit);
  }
}

interface RoutedQuery {
  q: Float32Array;
  idf: Float32Array | null;
  dim: number;
  episodes: EpisodeRow[];
  matched: EpisodeRow;
}

interface IndexedSegment {
  id: number;
  episode: number;
  first: number;
  last: number;
  vec: Float32Array;
}

/** A time from the Worker (ms since the epoch), or null when absent or not a plausible one. */
function validTime(t: unknown): number | null {
  return typeof t === "number" && Number.isFinite(t) && t > 0 ? t : null;
}

/** Ranked candidates restricted to live messages (a fork is pending): each keeps its live messages, or is dropped. */
function* liveCandidates(ranked: Iterable<Candidate>, live: (seq: number) => boolean): Iterable<Candidate> {
  for (const c of ranked) {
    const messages = c.messages.filter((m) => live(m.seq));
    if (messages.length) yield messages.length === c.messages.length ? c : { ...c, messages };
  }
}

/** A listing page with the superseded messages of its seq range, each after the live message that took its seq. */
function withSuperseded(live: StoredMessage[], superseded: readonly (MessageRow & { superseded_at: number })[]): StoredMessage[] {
  const out: StoredMessage[] = [];
  let j = 0;
  for (const m of live) {
    out.push(m);
    while (j < superseded.length && superseded[j]!.seq <= m.seq) out.push({ ...storedMessage(superseded[j]!), superseded_at: superseded[j++]!.superseded_at });
  }
  while (j < superseded.length) out.push({ ...storedMessage(superseded[j]!), superseded_at: superseded[j++]!.superseded_at });
  return out;
}

function contextFields(m: ChatMessage): Pick<ContextMessage, "role" | "content" | "name" | "tool_call_id" | "tool_calls"> {
  const out: Pick<ContextMessage, "role" | "content" | "name" | "tool_call_id" | "tool_calls"> = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
  return out;
}
