// One Durable Object per conversation: owns its episodic state in SQLite and
// decides each turn's context (docs/architecture.md). The class is the RPC
// surface and orchestrates; the work is in modules by concern:
// - ingest.ts: the append pipeline (hash chain, segments, embeddings, online
//   episode assignment, IDF bookkeeping);
// - ../selection/mirrors.ts: the in-memory mirrors a turn reads;
// - ../selection/turn-context.ts: ranking and the budgeted selection;
// - alarm-jobs.ts: re-clustering, pin release and kv mode's background work;
// - turn-queue.ts, turn-session.ts: turn tickets, leases, idempotent results
//   and backend pinning;
// - history-divergence.ts, fork.ts: regenerate and edit (a resend that
//   diverges forks; what it replaces is superseded), concurrent resends;
// and all SQL goes through conversation-store.ts.
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
//   rebuilt by the alarm). It holds the latest MAX_INDEXED_SEGMENTS
//   segments (18 MiB of rows, ≈ 49k messages): past that, the oldest leave
//   it as new ones arrive, and older messages are reached through the
//   lexical index (reading their embeddings back from SQLite on every turn
//   left more ArrayBuffer garbage than the index holds, docs/memory.md);
// - ranked segments are widened lazily from the in-memory message metadata
//   (message-meta.ts, 8 bytes per message, at most MAX_META_MESSAGES), at
//   most rankLimit(budget) per turn (and at most MAX_CONSECUTIVE_SKIPS
//   misses in a row), and only the chosen messages' text is loaded (bounded
//   by the budget), in one query through a bounded LRU (message-cache.ts);
// - appending reads only the open segment tail (< window utterances);
// - the alarm's k-means fits at most MAX_FIT_SEGMENTS vectors (6.3 MB at
//   384 dims) in a WASM instance of its own, dropped after the fit, then
//   assigns every segment in streamed batches.
// What still grows linearly: the importMessages argument itself, and
// episodes() listing every segment id.
import { DurableObject } from "cloudflare:workers";
import { bundledKernels, kernelsModule } from "../../wasm/src/bundled";
import type { Kernels } from "../../wasm/src/kernels";
import type {
  ChatMessage, ContextSelection, ConversationInfo, ConversationSettings, ConversationStats,
  EpisodeView, ImportResult, MessagePage, TurnPlan, Usage,
} from "./conversation-api";
import { conversationErrorCode, conversationIdOfObjectName, InvalidConversationRequestError } from "./conversation-api";
import type { ConversationApi } from "./conversation-rpc";
import { ConversationStore, storedMessage } from "./conversation-store";
import type { ConversationEnv } from "./env";
import { matchRequest, messageDigest, requestFingerprint } from "./hash-chain";
import { queryText, validateMessage, validateMessages } from "./message-validation";
import { mergeSettings, DEFAULT_SETTINGS } from "./settings";
import { migrate } from "./schema";
import { prepareAppend, writeAppend, type PreparedAppend } from "./ingest";
import { KV_BACKGROUND_JOB, RECLUSTER_DELAY_MS, RECLUSTER_JOB, recluster, runDueJobs } from "./alarm-jobs";
import { TurnQueue } from "./turn-queue";
import { resolveHistory, type HistoryDecision } from "./history-divergence";
import { supersedeFrom, withSuperseded, type AppendStart } from "./fork";
import { sentPlan } from "./sent-plan";
import { MAX_WAITING_TURNS, turnLeaseMs, type BeginTurnOptions, type CommitTurnOptions, type TurnStart } from "./turn-api";
import { pinnedBackend, recordRouting, saveTurn, storedTurn, validIdempotencyKey } from "./turn-session";
import { embedderFromEnv, type Embedder } from "../episodes/embedder";
import { ConversationMirrors } from "../selection/mirrors";
import { turnContext } from "../selection/turn-context";
import { calibrateCharsPerToken, conversationTokens, DEFAULT_CHARS_PER_TOKEN } from "../selection/token-estimator";
import { sqlOver } from "../storage/sql";
import { kvBackground, kvTurnStream, type KvDurableDeps, type KvTurnRequest } from "../kv/kv-durable";

export const MAX_PAGE = 1000;
/** How long an accepted turn's write waits for the answer to leave (yieldBeforeWrite); calls that arrive meanwhile wait for the write. */
const WRITE_DELAY_MS = 1;
/** Requests up to this many characters of content keep their history match for the turn's acceptance. */
const HISTORY_MEMO_CHARS = 65_536;

export class ConversationDO extends DurableObject<ConversationEnv> implements ConversationApi {
  private readonly store: ConversationStore;
  private embedderInstance: Embedder | undefined;
  /** The segment index, message metadata, message rows and IDF a turn reads in memory (mirrors.ts). */
  private readonly mirrors: ConversationMirrors;
  /** Chat turns in arrival order, plan to commit (turn-queue.ts; docs/reliability.md). */
  private readonly turns = new TurnQueue({ maxWaiting: MAX_WAITING_TURNS });
  /**
   * Kept from the last append and the last history match with the store's
   * writeVersion they hold at: a turn's acceptance repeats its plan's history
   * match and the append's base reads, ≈ 0.5 ms of SQL at 100k messages, and
   * nothing was written in between unless the version moved.
   */
  private appendStart: { version: number; window: number; start: AppendStart } | null = null;
  private lastHistory: { version: number; key: string; decision: HistoryDecision } | null = null;

  constructor(ctx: DurableObjectState, env: ConversationEnv) {
    super(ctx, env);
    this.store = new ConversationStore(sqlOver(ctx.storage.sql), (fn) => ctx.storage.transactionSync(fn));
    this.store.transaction(() => migrate(this.store.sql));
    this.mirrors = new ConversationMirrors(this.store);
  }

  private kernels(): Kernels {
    return bundledKernels();
  }
  private embedder(): Embedder {
    this.embedderInstance ??= embedderFromEnv(this.env, () => this.kernels());
    return this.embedderInstance;
  }

  /** kv mode: a turn decoded against this conversation's episodic KV cache, as NDJSON events (../kv/kv-durable.ts, docs/kv-mode.md). */
  async kvTurn(request: KvTurnRequest): Promise<ReadableStream<Uint8Array>> {
    return kvTurnStream(this.kvDeps(), request);
  }

  /** kv mode's dependencies; its background work (folds, rebuilds) runs as the alarm job KV_BACKGROUND_JOB. */
  private kvDeps(): KvDurableDeps {
    const scheduleBackground = () => {
      this.store.schedule(KV_BACKGROUND_JOB, Date.now());
      this.ctx.waitUntil(this.armAlarm());
    };
    // A kv turn records itself through the same writes as context mode (../kv/kv-turn-record.ts).
    const writer = {
      configure: (id: string) => this.configure(id, {}),
      commit: (messages: ChatMessage[], reply: ChatMessage, usage: Usage | undefined, options: CommitTurnOptions) => this.commitTurn(messages, reply, usage, undefined, options),
      release: (ticket: string) => void this.turns.release(ticket),
    };
    return {
      sql: this.store.sql, store: this.store, kernels: this.kernels(), embedder: this.embedder(), backendUrl: this.env.KV_BACKEND_URL, scheduleBackground,
      waitUntil: (work: Promise<unknown>) => this.ctx.waitUntil(work), writer,
    };
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
      if (before && before.episodes !== merged.episodes && this.store.counter("segments") > 0) this.store.schedule(RECLUSTER_JOB, Date.now());
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
      episode_count: this.store.sharedEpisodes().length,
      total_tokens: conversationTokens(this.store.counter("weight"), messages, cpt),
      chars_per_token: cpt,
      memory: this.mirrors.memory(),
      recluster_pending: this.store.hasJob(RECLUSTER_JOB),
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
    this.mirrors.clear();
    this.store.transaction(() => migrate(this.store.sql));
    this.store.forgetCached(); // storage was deleted underneath the cached rows
    return existed;
  }

  // --- RPC: messages -------------------------------------------------------
  async importMessages(messages: ChatMessage[], idempotencyKey?: string): Promise<ImportResult> {
    const key = validIdempotencyKey(idempotencyKey);
    const valid = validateMessages(messages, { allowEmpty: true });
    return this.serialised(async () => {
      // The key is bound to the request: the chain value of its messages (order and content).
      // Each message's digest once: the fingerprint, the match and the stored rows share them (hashing was most of an import's allocation, docs/memory.md).
      const digests = valid.map(messageDigest);
      const fingerprint = requestFingerprint(valid, digests);
      if (key) {
        const previous = this.store.importResult<ImportResult & { fingerprint?: string }>(key);
        if (previous) {
          if (previous.fingerprint !== undefined && previous.fingerprint !== fingerprint) {
            throw new InvalidConversationRequestError("this Idempotency-Key was already used with different messages");
          }
          const { fingerprint: _f, ...result } = previous;
          return { ...result, replayed: true };
        }
      }
      const match = matchRequest(valid, this.store.chainView(this.store.counter("messages")), digests);
      const appended = match.newIndices.map((i) => valid[i]!);
      let result!: ImportResult;
      await this.append(appended, null, null, match.newIndices.map((i) => digests[i]!), () => {
        result = { appended: appended.length, duplicates: match.duplicates, message_count: this.store.counter("messages"), replayed: false };
        if (key) this.store.saveImportResult(key, { ...result, fingerprint }, Date.now());
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
    return this.context(query, this.budget(budgetTokens), []);
  }

  async planTurn(messages: ChatMessage[], options?: { budget_tokens?: number; arrived_at?: number }): Promise<TurnPlan> {
    const valid = validateMessages(messages, { allowEmpty: false });
    const match = this.history(valid, options?.arrived_at);
    const fresh = match.newIndices.map((i) => valid[i]!);
    const context = await this.context(queryText(fresh, valid), this.budget(options?.budget_tokens), fresh, match.forkAt);
    return { new_messages: fresh.length, context };
  }

  async commitTurn(messages: ChatMessage[], reply: ChatMessage, usage?: Usage, sentTokens?: number, options: CommitTurnOptions = {}): Promise<{ message_count: number; appended: number }> {
    return this.stageTurn(messages, reply, usage, sentTokens, options, false).written;
  }

  async recordTurn(messages: ChatMessage[], reply: ChatMessage, usage?: Usage, sentTokens?: number, options: CommitTurnOptions = {}): Promise<{ appended: number }> {
    const { accepted, written } = this.stageTurn(messages, reply, usage, sentTokens, options, true);
    written.catch(() => {}); // a failure before acceptance rejects `accepted`; one after it, stageTurn logs
    return { appended: await accepted };
  }

  /**
   * A turn's commit in two steps under one blockConcurrencyWhile: `accepted`
   * settles once everything that depends on the request is checked and
   * computed (validation, the history match that may refuse with 409, the
   * rows and their embeddings), `written` once the one transaction that
   * stores them has run. Events that arrive after `accepted` wait for the
   * write, so a read made after the caller learns of the acceptance sees
   * the turn. With `answerEarly` the write starts WRITE_DELAY_MS later
   * (yieldBeforeWrite), so the answer leaves before the write's CPU, and a
   * failure after the acceptance (the caller has answered its client) is
   * logged.
   */
  private stageTurn(messages: ChatMessage[], reply: ChatMessage, usage: Usage | undefined, sentTokens: number | undefined, options: CommitTurnOptions, answerEarly: boolean):
    { accepted: Promise<number>; written: Promise<{ message_count: number; appended: number }> } {
    let accept!: (appended: number) => void;
    let refuse!: (err: unknown) => void;
    const accepted = new Promise<number>((resolve, reject) => { accept = resolve; refuse = reject; });
    accepted.catch(() => {}); // a caller that waits for `written` alone sees the error there
    const release = () => { if (options.ticket) this.turns.release(options.ticket); };
    let valid: ChatMessage[];
    let answer: ChatMessage;
    let key: string | undefined;
    try {
      valid = validateMessages(messages, { allowEmpty: false });
      answer = validateMessage(reply, "reply");
      if (answer.role !== "assistant") throw new InvalidConversationRequestError("reply.role must be assistant");
      key = validIdempotencyKey(options.idempotency_key);
    } catch (err) {
      release();
      refuse(err);
      return { accepted, written: Promise.reject(err) };
    }
    const written = this.serialised(async () => {
      const match = this.history(valid, options.arrived_at);
      const fresh = match.newIndices.map((i) => valid[i]!);
      const appended = [...fresh, answer];
      const prepared = await this.prepareRows(appended, match.forkAt, validTime(options.visible_at));
      accept(appended.length);
      if (answerEarly) await this.yieldBeforeWrite();
      let stored = false;
      try {
        this.storeRows(prepared, match.forkAt, () => {
          if (usage && typeof sentTokens === "number") {
            this.store.setMeta("chars_per_token", String(calibrateCharsPerToken(this.charsPerToken(), sentTokens, usage.prompt_tokens)));
          }
          this.store.addCounter("turns", 1);
          // Same transaction as the messages: a retry either finds the result or finds nothing appended.
          if (key && options.response) saveTurn(this.store, key, requestFingerprint(valid), options.response, Date.now());
          if (options.backend) recordRouting(this.store, fresh, answer, options.backend, options.arrived_at ?? Date.now(), Date.now());
        });
        stored = true;
        await this.armAlarm();
      } catch (err) {
        if (answerEarly) console.error(`epikv: a turn was answered before its write, and ${stored ? "arming its alarm failed (the turn is stored)" : "the write failed: nothing of the turn is stored"}:`, err);
        throw err;
      }
      return { message_count: this.store.counter("messages"), appended: appended.length };
    }).finally(release);
    written.catch(refuse); // before acceptance: the caller of `accepted` gets the error (a no-op after it)
    return { accepted, written };
  }

  /**
   * WRITE_DELAY_MS before the write: the acceptance's reply and the Worker's
   * answer leave before the write's CPU. Where the Worker and the object run
   * on one thread (workerd serves both from one isolate locally), a write
   * started on the next tick still ran before the answer went out: +0.4 to
   * +1.1 ms of added p50 (docs/context-mode.md). Tests stretch it to show
   * that reads wait for the write.
   */
  private yieldBeforeWrite(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, WRITE_DELAY_MS));
  }

  async beginTurn(messages: ChatMessage[], options: BeginTurnOptions = {}): Promise<TurnStart> {
    const key = validIdempotencyKey(options.idempotency_key);
    let ticket: string;
    try {
      ticket = await this.turns.acquire(turnLeaseMs(options.lease_ms));
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
      // Only what the Worker needs from the conversation (info() also reads memory accounting and the job schedule).
      const settings = this.store.exists() ? this.settingsOrDefault() : null;
      const plan = options.plan === false ? null : await this.planTurn(messages, { budget_tokens: options.budget_tokens, arrived_at: options.arrived_at });
      return { kind: "go", ticket, settings, plan: plan && sentPlan(plan), pinned_backend: pinnedBackend(this.store, Date.now()) };
    } catch (err) {
      this.turns.release(ticket);
      // An expected refusal (409, 400) is returned: workerd logs every error an RPC method throws as uncaught.
      if (conversationErrorCode(err)) return { kind: "refused", message: (err as Error).message };
      throw err;
    }
  }

  async endTurn(ticket: string): Promise<boolean> {
    return typeof ticket === "string" && this.turns.release(ticket);
  }

  // --- alarm: deferred jobs (alarm-jobs.ts) ---------------------------------
  async alarm(): Promise<void> {
    await runDueJobs(this.store, {
      kvBackground: () => kvBackground(this.kvDeps()),
      recluster: () => {
        recluster(this.store, kernelsModule, this.settingsOrDefault().episodes, this.embedder().usesIdf);
        // Rebuilt here, in the background, not on the next turn.
        this.mirrors.rebuildIndex();
      },
    }, Date.now());
    await this.armAlarm();
  }

  // --- internals -----------------------------------------------------------
  private budget(requested: number | undefined): number {
    if (requested === undefined || requested === null) return this.settingsOrDefault().budget_tokens;
    if (!Number.isInteger(requested) || requested < 1) throw new InvalidConversationRequestError("budget_tokens must be a positive integer");
    return requested;
  }

  /** The context for `query` plus the turn's new messages (turn-context.ts; reads only, but for the lexical window's floor); under a pending fork, only from the messages before it. */
  private context(query: string, budget: number, turn: readonly ChatMessage[], forkAt: number | null = null): Promise<ContextSelection> {
    const source = { store: this.store, mirrors: this.mirrors, kernels: this.kernels(), embedder: this.embedder(), settings: this.settingsOrDefault(), charsPerToken: this.charsPerToken() };
    return turnContext(source, query, budget, turn, forkAt);
  }

  /** How the request's messages relate to the stored history under the conversation's history setting (history-divergence.ts). */
  private history(valid: readonly ChatMessage[], arrivedAt: number | undefined): HistoryDecision {
    const mode = this.settingsOrDefault().history ?? "fork";
    // The decision depends on the request, its arrival, the mode and the stored messages (the version).
    // Kept for requests of at most HISTORY_MEMO_CHARS (a client that sends only its new messages): the key holds the request.
    const chars = valid.reduce((n, m) => n + m.content.length, 0);
    const key = chars <= HISTORY_MEMO_CHARS ? `${mode}\u0000${arrivedAt ?? ""}\u0000${JSON.stringify(valid)}` : null;
    const version = this.store.writeVersion;
    if (key !== null && this.lastHistory?.version === version && this.lastHistory.key === key) return this.lastHistory.decision;
    const decision = this.matchHistory(valid, arrivedAt, mode);
    this.lastHistory = key === null ? null : { version, key, decision };
    return decision;
  }

  private matchHistory(valid: readonly ChatMessage[], arrivedAt: number | undefined, mode: NonNullable<ConversationSettings["history"]>): HistoryDecision {
    const count = this.store.counter("messages");
    const last = this.store.lastMessage();
    const lastRole = (last?.role ?? null) as ChatMessage["role"] | null;
    // What the request's client could have seen: the messages visible before it arrived (their created_at).
    const at = validTime(arrivedAt);
    const seen = at === null ? undefined : this.store.countCreatedBefore(at, count, last);
    return resolveHistory(valid, this.store.chainView(count), { mode, seen, lastRole });
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
   * Appends messages with their segments, embeddings and episode assignment
   * (ingest.ts) and runs `extra`, all in one transaction; embedding happens
   * before it. The in-memory mirrors follow only once it committed.
   */
  /** `digests`: the messages' digests, when the caller has them already. */
  private async append(messages: readonly ChatMessage[], forkAt: number | null, visibleAt: number | null, digests: readonly string[] | undefined, extra: () => void): Promise<void> {
    await this.writeRows(await this.prepareRows(messages, forkAt, visibleAt, digests), forkAt, extra);
  }

  /** The rows of an append, embedded (the embedder may await a remote endpoint, so this stays outside the transaction). */
  private prepareRows(messages: readonly ChatMessage[], forkAt: number | null, visibleAt: number | null, digests?: readonly string[]): Promise<PreparedAppend> {
    const window = this.settingsOrDefault().window;
    // Where the last append left the conversation, while nothing was written since (an import, a fork, a restore).
    const known = this.appendStart;
    const start = forkAt === null && known && known.version === this.store.writeVersion && known.window === window ? known.start : undefined;
    // Under a fork the rows continue the live prefix before it (fork.ts); created_at is when the reply became visible.
    return prepareAppend(this.store, messages, window, this.charsPerToken(), this.embedder(), visibleAt ?? Date.now(), forkAt, digests, start);
  }

  /** Stores prepared rows and `extra`'s writes in one transaction, then arms the alarm for the jobs they scheduled. */
  private async writeRows(prepared: PreparedAppend, forkAt: number | null, extra: () => void): Promise<void> {
    this.storeRows(prepared, forkAt, extra);
    await this.armAlarm();
  }

  /** One transaction: the rows, their segments and episodes, `extra`'s writes; then the in-memory mirrors follow. */
  private storeRows(prepared: PreparedAppend, forkAt: number | null, extra: () => void): void {
    const settings = this.settingsOrDefault();
    const now = Date.now();
    let indexed: ReturnType<typeof writeAppend> = [];
    this.store.transaction(() => {
      this.ensureCreated();
      if (forkAt !== null) supersedeFrom(this.store, forkAt, now, { reclusterAt: now + RECLUSTER_DELAY_MS });
      indexed = writeAppend(this.store, prepared, this.embedder(), settings.episodes, this.mirrors.clusterIdf());
      extra();
    });
    this.appendStart = { version: this.store.writeVersion, window: prepared.window, start: prepared.next };
    // A fork removed rows the mirrors hold: they are rebuilt from storage on next use.
    if (forkAt !== null) this.mirrors.clear();
    else this.mirrors.followAppend(prepared.rows, indexed);
  }
}

/** A time from the Worker (ms since the epoch), or null when absent or not a plausible one. */
function validTime(t: unknown): number | null {
  return typeof t === "number" && Number.isFinite(t) && t > 0 ? t : null;
}
