// kv mode of one conversation, with its state persisted (state-store.ts,
// page-store.ts): what the Durable Object holds and delegates to. The
// algorithms live in conversation-kv.ts, block-prefill.ts, evict.ts and
// the policies; this class loads and saves state around them.
//
// - open(): model metadata from the backend (once per model, stored), the
//   layer sensitivity profile (once per model, stored, as soon as the
//   conversation has two blocks to profile on), per-layer budgets.
// - setEpisodes(): new or changed episodes get their cache rebuilt in the
//   background (queued; runRebuilds() from the alarm). Until then a new
//   episode decodes with a copy of an existing episode's cache, so a turn
//   always has a valid cache and never waits on a rebuild.
// - append() + fold(): the stream grows; complete blocks are folded into
//   every episode's cache.
// - turn(): the decode request and KV source for a query (step 7).
import type { KvBackendClient, KvSource } from "./backend-client";
import type { KvEngine } from "./block-prefill";
import { layerBudgets, tokensPerHead, type KvBudget, DEFAULT_ALPHA } from "./budgets";
import { appendTurn, cacheName, episodeKv, foldPendingBlocks, rebuildEpisodeCache, turnRequest, type KvConversationState, type KvEpisode, type KvSettings } from "./conversation-kv";
import type { MemoryMeter } from "./memory-meter";
import { storedModelInfo, type KvModelInfo } from "./model-info";
import type { KvPageStore } from "./page-store";
import { DEFAULT_PAGE_ENCODING, type PageEncoding } from "./pages";
import { policyByName, type PolicyName } from "./policies/index";
import type { KvStateStore } from "./state-store";
import type { Kernels } from "../../wasm/src/kernels";

export interface KvModeSettings {
  /** Backend model id; the backend's default when absent. */
  model?: string;
  policy: PolicyName;
  budget: KvBudget;
  blockSize: number;
  encoding: PageEncoding;
  /** Layer-budget skew α (0 = uniform). */
  alpha: number;
  /** Longest representative prompt, in tokens (the prompt runs after every block for every episode: its length is EpiCache's prefill cost). */
  promptTokens?: number;
  /** Seconds the backend is asked to pin a turn's KV for the next turn (0 = never pin). */
  pinTtlS?: number;
}

export const DEFAULT_KV_SETTINGS: KvModeSettings = { policy: "epicache", budget: { tokensPerHead: 512 }, blockSize: 256, encoding: DEFAULT_PAGE_ENCODING, alpha: DEFAULT_ALPHA, promptTokens: 512, pinTtlS: 300 };

/** A backend handle holding an episode cache plus the tokens after it (Continuum-style pinning). */
export interface KvPin {
  handle: string;
  cache: string;
  /** The folded position the cache had when pinned (a fold invalidates the pin). */
  folded: number;
  /** Positions [folded, upTo) are pinned after the cache. */
  upTo: number;
  tokens: number[];
  expiresAt: number;
}

interface SavedState {
  folded: number;
  episodes: KvEpisode[];
}

/** Blocks of the conversation's opening the sensitivity profile runs on (at least 2 carry signal). */
export const PROFILE_BLOCKS = 8;

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export function checkKvSettings(s: KvModeSettings): void {
  policyByName(s.policy);
  if (!Number.isSafeInteger(s.blockSize) || s.blockSize < 1) throw new RangeError(`kv blockSize must be a positive integer, got ${s.blockSize}`);
  if (!(s.alpha >= 0)) throw new RangeError(`kv alpha must be ≥ 0, got ${s.alpha}`);
  if (!["fp32", "int8", "int4"].includes(s.encoding.dtype)) throw new RangeError(`kv encoding must be fp32, int8 or int4, got ${s.encoding.dtype}`);
}

export class KvMode {
  /** fold() and runRebuilds() write caches and episode state: they run one at a time (turns only read, never wait). */
  private writer: Promise<unknown> = Promise.resolve();

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writer.then(fn, fn);
    this.writer = run.catch(() => undefined);
    return run;
  }

  private constructor(
    readonly engine: KvEngine,
    private readonly state: KvStateStore,
    readonly settings: KvModeSettings,
    private budgets: number[],
  ) {}

  static async open(deps: { client: KvBackendClient; pages: KvPageStore; state: KvStateStore; kernels: Kernels; meter?: MemoryMeter }, settings: KvModeSettings): Promise<KvMode> {
    checkKvSettings(settings);
    const key = `model:${settings.model ?? ""}`;
    const stored = deps.state.get<KvModelInfo>(key);
    let model = stored && storedModelInfo(stored);
    if (!model) {
      model = await deps.client.model(settings.model);
      deps.state.set(key, model);
    }
    if (settings.blockSize > model.maxInputTokens) throw new RangeError(`kv blockSize ${settings.blockSize} exceeds the backend's max_input_tokens ${model.maxInputTokens}`);
    const engine: KvEngine = { client: deps.client, store: deps.pages, model, kernels: deps.kernels, encoding: settings.encoding, meter: deps.meter };
    const mode = new KvMode(engine, deps.state, settings, []);
    mode.budgets = mode.computeBudgets();
    return mode;
  }

  get model(): KvModelInfo {
    return this.engine.model;
  }

  private saved(): SavedState {
    return this.state.get<SavedState>("conversation") ?? { folded: 0, episodes: [] };
  }

  private computeBudgets(): number[] {
    const m = tokensPerHead(this.settings.budget, this.model, Math.max(1, this.saved().episodes.length), this.settings.encoding);
    const sensitivity = this.state.get<number[]>(`profile:${this.model.id}:${this.settings.blockSize}`);
    return layerBudgets(this.engine.kernels, this.model.layers, m, sensitivity, this.settings.alpha);
  }

  layerBudgets(): number[] {
    return [...this.budgets];
  }

  private conversation(): KvConversationState {
    const s = this.saved();
    return { tokens: this.state, folded: s.folded, episodes: s.episodes, budgets: this.budgets };
  }

  private save(c: KvConversationState): void {
    this.state.set("conversation", { folded: c.folded, episodes: c.episodes } satisfies SavedState);
  }

  private kvSettings(): KvSettings {
    return { policy: this.settings.policy, blockSize: this.settings.blockSize };
  }

  episodes(): KvEpisode[] {
    return this.saved().episodes;
  }

  tokenCount(): number {
    return this.state.tokenCount();
  }

  folded(): number {
    return this.saved().folded;
  }

  /**
   * The episodes as clustering now sees them (id + tokenized representative
   * prompt). Only recorded here (a turn calls this and must not wait); the
   * next background run applies it under the writer lock (applyEpisodes).
   * Returns the ids whose cache will be (re)built.
   */
  setEpisodes(next: readonly { id: number; promptTokens: number[] }[]): { queued: number[] } {
    const cap = Math.min(this.settings.promptTokens ?? this.model.maxPromptTokens, this.model.maxPromptTokens);
    const desired = next.map(({ id, promptTokens }) => ({ id, promptTokens: promptTokens.slice(-cap) }));
    this.state.set("desired_episodes", desired);
    const current = new Map(this.episodes().map((e) => [e.id, e]));
    const folded = this.folded();
    return { queued: desired.filter((d) => (current.has(d.id) ? !sameTokens(current.get(d.id)!.promptTokens, d.promptTokens) : folded > 0)).map((d) => d.id) };
  }

  /**
   * Under the writer lock: new episodes start from a copy of an existing
   * cache and are queued for a rebuild with their prompt (a turn always has a
   * valid cache); changed prompts are queued; vanished episodes retire.
   */
  private applyEpisodes(c: KvConversationState): void {
    const desired = this.state.get<{ id: number; promptTokens: number[] }[]>("desired_episodes");
    if (!desired) return;
    const before = new Map(c.episodes.map((e) => [e.id, e]));
    const donor = c.episodes[0];
    const retired: string[] = [];
    c.episodes = desired.map(({ id, promptTokens }) => {
      const old = before.get(id);
      if (old) {
        if (sameTokens(old.promptTokens, promptTokens)) return old;
        // Nothing folded yet: the cache is empty, the new prompt applies from the first block.
        if (c.folded === 0) return { ...old, promptTokens };
        this.state.queueRebuild(id, promptTokens);
        return old;
      }
      const e: KvEpisode = { id, cache: cacheName(id, 0), generation: 0, promptTokens };
      this.engine.store.dropCache(e.cache);
      if (c.folded > 0) {
        if (donor) this.engine.store.copyCache(donor.cache, e.cache);
        this.state.queueRebuild(id, promptTokens);
      }
      return e;
    });
    for (const e of before.values()) if (!desired.some((d) => d.id === e.id)) {
      retired.push(e.cache);
      this.state.doneRebuild(e.id);
    }
    this.state.set("desired_episodes", null);
    this.swap(c, retired);
    this.budgets = this.computeBudgets();
  }

  /**
   * Saves the conversation state after a swap and retires replaced cache
   * generations: those retired by the previous swap are dropped now, these
   * at the next swap, so a turn still streaming an old generation finishes.
   */
  private swap(c: KvConversationState, retired: readonly string[]): void {
    this.save(c);
    for (const old of this.state.get<string[]>("retired_caches") ?? []) if (!c.episodes.some((e) => e.cache === old)) this.engine.store.dropCache(old);
    this.state.set("retired_caches", retired);
  }

  append(tokens: readonly number[]): void {
    this.state.appendTokens(tokens);
  }

  /** Profiles the model once (stored) when the conversation first has enough folded text, then folds complete blocks. */
  fold(): Promise<{ blocks: number }> {
    return this.exclusive(() => this.foldNow());
  }

  private async foldNow(): Promise<{ blocks: number }> {
    const c = this.conversation();
    this.applyEpisodes(c);
    if (c.episodes.length === 0) return { blocks: 0 };
    await this.profileOnce();
    c.budgets = this.budgets;
    const stats = await foldPendingBlocks(this.engine, this.kvSettings(), c, (retired) => this.swap(c, retired));
    return { blocks: stats.length / Math.max(1, c.episodes.length) };
  }

  private async profileOnce(): Promise<void> {
    const key = `profile:${this.model.id}:${this.settings.blockSize}`;
    if (this.settings.alpha === 0 || this.state.get(key)) return;
    const B = this.settings.blockSize;
    // Full causal attention over the profiled window is quadratic: PROFILE_BLOCKS blocks are enough signal.
    const available = Math.min(this.state.tokenCount(), this.model.maxProfileTokens, PROFILE_BLOCKS * B);
    if (available < 2 * B) return;
    const sensitivity = await this.engine.client.profile(this.model.id, [this.state.readTokens(0, available)], B);
    this.state.set(key, sensitivity);
    this.budgets = this.computeBudgets();
  }

  /**
   * The decode request and KV source of a turn against episode `episodeId`
   * (step 7). With `pin`, the request asks the backend to keep the turn's KV
   * (cache + tail + query + reply) under a handle; a later turn on the same
   * cache generation and folded position then sends only the tokens after
   * what is pinned, falling back to the bytes on a miss (recordPin, pinFor).
   */
  turn(episodeId: number | null, queryTokens: readonly number[], options: { maxTokens: number; temperature?: number; seed?: number; pinTtlS?: number }, handle?: string): { request: Record<string, unknown>; kv: KvSource; episode: number; cache: string; folded: number } {
    // One read of the saved state: the cache generation and the folded position agree (folds swap both at once).
    const c = this.conversation();
    const e = c.episodes.find((x) => x.id === episodeId) ?? c.episodes[0] ?? null;
    if (!e && c.folded > 0) throw new Error("kv state has folded tokens but no episode cache");
    const cache = e?.cache ?? "";
    const keep = options.pinTtlS ? { keep: { ttl_s: options.pinTtlS } } : {};
    const request = { ...turnRequest(this.engine, c, queryTokens, options), ...keep };
    const kv = e ? episodeKv(this.engine, cache, handle) : { handle, frame: null };
    const pin = handle === undefined && options.pinTtlS ? this.pinFor(cache) : null;
    if (pin) {
      kv.handle = pin.handle;
      kv.handleRequest = { ...request, tokens: [...this.state.readTokens(pin.upTo, this.state.tokenCount()), ...queryTokens], start_position: pin.upTo };
    }
    // The folded position this request was built against: a fold in the background during the decode moves the state's.
    return { request, kv, episode: e?.id ?? -1, cache, folded: c.folded };
  }

  /** A pin still matching the stored stream: same cache generation, same folded position, same pinned tokens, not expired. */
  pinFor(cache: string): KvPin | null {
    const pin = this.state.get<KvPin>(`pin:${cache}`);
    if (!pin || pin.folded !== this.folded() || pin.expiresAt <= Date.now() || pin.upTo > this.state.tokenCount()) return null;
    const stored = this.state.readTokens(pin.folded, pin.upTo);
    return stored.length === pin.tokens.length && stored.every((t, i) => t === pin.tokens[i]) ? pin : null;
  }

  /** Records the handle a turn's decode returned: it covers cache + `tokens` (positions folded … upTo − 1); `folded`: the turn's (turn()). */
  recordPin(cache: string, handle: string, expiresAt: string, request: Record<string, unknown>, generated: readonly number[], folded: number): void {
    const start = request.start_position as number;
    const fed = request.tokens as number[];
    const before = start > folded ? this.state.readTokens(folded, start) : [];
    const tokens = [...before, ...fed, ...generated];
    this.state.set(`pin:${cache}`, { handle, cache, folded, upTo: folded + tokens.length, tokens, expiresAt: Date.parse(expiresAt) } satisfies KvPin);
  }

  /** Appends the finished turn (query message + reply); fold() later folds it into the caches. */
  commitTurn(queryMessage: readonly number[], generated: readonly number[]): void {
    appendTurn(this.model, this.conversation(), queryMessage, generated);
  }

  /** Runs queued cache rebuilds (from the alarm); each swaps in its new generation when complete. */
  runRebuilds(limit = Infinity): Promise<number[]> {
    return this.exclusive(() => this.rebuildNow(limit));
  }

  private async rebuildNow(limit: number): Promise<number[]> {
    const done: number[] = [];
    const c = this.conversation();
    this.applyEpisodes(c);
    for (const r of this.state.rebuilds().slice(0, limit)) {
      if (c.episodes.some((e) => e.id === r.episode)) {
        const { retired } = await rebuildEpisodeCache(this.engine, this.kvSettings(), c, r.episode, r.promptTokens);
        this.swap(c, [retired]);
      }
      this.state.doneRebuild(r.episode);
      done.push(r.episode);
    }
    return done;
  }

  bytesStored(): number {
    return this.engine.store.bytes();
  }
}
