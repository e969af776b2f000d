// kv mode for one conversation (docs/architecture.md, EpiCache steps 4 and 7), as pure
// async functions over a state object and a page store; the Durable Object
// persists the state and runs these (durable-objects/kv/sqlite-page-store.ts,
// docs/kv-mode.md). The conversation is one token stream in the model's chat
// template (`<|bos|>` then role prefix, content, suffix per message); positions
// are indices into it, so every key keeps its original absolute position.
//
// - Blocks of B tokens are folded into every episode's cache once complete.
// - A query decodes against the matched episode's cache plus the
//   uncompressed tail since the last folded block plus the query itself; the
//   turn is then appended to the stream (and folded with its block later).
// - When re-clustering changes an episode, its cache is rebuilt from the
//   stored tokens into a new generation and swapped in when complete, so a
//   turn always has a valid cache (the previous generation meanwhile).
import { prefillBlock, type BlockStats, type CacheSpec, type KvEngine } from "./block-prefill";
import type { KvSource } from "./backend-client";
import { kvRequestFrame } from "./frame-stream";
import type { KvModelInfo } from "./model-info";
import { policyByName, type PolicyName } from "./policies/index";
import type { KvStateStore } from "./state-store";

export interface KvSettings {
  policy: PolicyName;
  /** Block size B in tokens (docs/architecture.md, EpiCache step 4). */
  blockSize: number;
}

export interface KvEpisode {
  id: number;
  /** Name of the current cache generation in the page store. */
  cache: string;
  generation: number;
  /** Tokenized representative prompt (step 3). */
  promptTokens: number[];
}

/** The conversation as one token stream (positions = indices), read in ranges (never whole). */
export type TokenStream = Pick<KvStateStore, "tokenCount" | "readTokens" | "appendTokens">;

export interface KvConversationState {
  tokens: TokenStream;
  /** Tokens [0, folded) are in every episode's cache. */
  folded: number;
  episodes: KvEpisode[];
  /** Per-layer budgets b_l (budgets.ts). */
  budgets: number[];
}

export const DEFAULT_BLOCK_SIZE = 256;

export function cacheName(episodeId: number, generation: number): string {
  return `e${episodeId}.g${generation}`;
}

export function cacheSpec(settings: KvSettings, state: KvConversationState, episode: KvEpisode, cache = episode.cache, promptTokens = episode.promptTokens): CacheSpec {
  return { cache, policy: policyByName(settings.policy), budgets: state.budgets, promptTokens };
}

/** The tokens that open a message of `role`; the assistant's also end a turn's query (the generation prompt). */
/** The tokens a chat's stream opens with: [bos_token], or none when the format has no bos (docs/kv-protocol.md). */
export function chatOpening(m: KvModelInfo): number[] {
  return m.bosToken === null ? [] : [m.bosToken];
}

export function rolePrefix(m: KvModelInfo, role: string): number[] {
  const open = m.rolePrefixes[role];
  if (open === undefined) throw new RangeError(`model ${m.id} has no role prefix for "${role}"`);
  return open;
}

/** Tokens of one message in the chat template: role prefix, content, message suffix (docs/kv-protocol.md, "Message framing"). */
export function messageTokens(m: KvModelInfo, role: string, content: number[]): number[] {
  return [...rolePrefix(m, role), ...content, ...m.messageSuffix];
}

/**
 * Folds every complete block after `folded` into every episode's cache.
 * Copy-on-write: each block writes every episode's next cache generation and
 * then swaps them in together with `folded`, in one synchronous step, so a
 * concurrent turn (the Durable Object interleaves requests at every await)
 * always reads a cache and a tail that agree. Replaced generations are
 * returned for the caller to drop once no reader can still hold them.
 */
export async function foldPendingBlocks(engine: KvEngine, settings: KvSettings, state: KvConversationState, onSwap: (retired: string[]) => void = (r) => r.forEach((c) => engine.store.dropCache(c))): Promise<BlockStats[]> {
  const stats: BlockStats[] = [];
  const B = settings.blockSize;
  while (state.tokens.tokenCount() - state.folded >= B) {
    const block = state.tokens.readTokens(state.folded, state.folded + B);
    const targets = state.episodes.map((e) => cacheName(e.id, e.generation + 1));
    try {
      for (const [i, e] of state.episodes.entries()) stats.push(await prefillBlock(engine, { ...cacheSpec(settings, state, e), target: targets[i] }, block, state.folded));
    } catch (err) {
      for (const t of targets) engine.store.dropCache(t);
      throw err;
    }
    const retired = state.episodes.map((e) => e.cache);
    state.episodes.forEach((e, i) => Object.assign(e, { cache: targets[i], generation: e.generation + 1 }));
    state.folded += B;
    onSwap(retired);
  }
  return stats;
}

/** The KV source of an episode's cache: its pages as a streamed frame (null when empty), and a pinned handle if one is known. */
export function episodeKv(engine: KvEngine, cache: string, handle?: string): KvSource {
  const { store, model: m } = engine;
  const held = Array.from({ length: m.layers }, (_, l) => store.headCounts(cache, l, m.kvHeads)).flat().some((n) => n > 0);
  return { handle, frame: held ? (req) => kvRequestFrame(store, cache, m, engine.encoding, req, engine.kernels) : null };
}

/** The decode request of a turn: tail since the last folded block + query, at their absolute positions. */
export function turnRequest(engine: KvEngine, state: KvConversationState, queryTokens: readonly number[], options: { maxTokens: number; temperature?: number; seed?: number }): Record<string, unknown> {
  return {
    model: engine.model.id,
    tokens: [...state.tokens.readTokens(state.folded, state.tokens.tokenCount()), ...queryTokens],
    start_position: state.folded,
    max_tokens: options.maxTokens,
    temperature: options.temperature ?? 0,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
}

/**
 * Appends a finished turn (the query message and the assistant's reply) to
 * the stream; the caller folds blocks afterwards. `generated` may end with a
 * stop token, which is replaced by the template's message suffix (which
 * usually starts with that same token: ChatML's `<|im_end|>` then `\n`).
 */
export function appendTurn(m: KvModelInfo, state: KvConversationState, queryMessage: readonly number[], generated: readonly number[]): void {
  const reply = generated.length && m.stopTokens.includes(generated[generated.length - 1]) ? generated.slice(0, -1) : [...generated];
  state.tokens.appendTokens([...queryMessage, ...messageTokens(m, "assistant", reply)]);
}

/**
 * Rebuilds one episode's cache from the stored tokens with a new prompt
 * (online growth, docs/kv-mode.md): prefills [0, folded) block by block into
 * the next generation, then swaps it in. Turns keep using the old generation
 * until the swap; the caller must not fold meanwhile (KvMode serialises
 * both) and drops the returned old generation once no reader holds it.
 */
export async function rebuildEpisodeCache(engine: KvEngine, settings: KvSettings, state: KvConversationState, episodeId: number, promptTokens: number[]): Promise<{ episode: KvEpisode; retired: string }> {
  const episode = state.episodes.find((e) => e.id === episodeId);
  if (!episode) throw new RangeError(`no episode ${episodeId}`);
  const generation = episode.generation + 1;
  const next = cacheName(episodeId, generation);
  engine.store.dropCache(next);
  try {
    for (let at = 0; at < state.folded; at += settings.blockSize) {
      await prefillBlock(engine, cacheSpec(settings, state, episode, next, promptTokens), state.tokens.readTokens(at, Math.min(state.folded, at + settings.blockSize)), at);
    }
  } catch (err) {
    engine.store.dropCache(next);
    throw err;
  }
  const retired = episode.cache;
  Object.assign(episode, { cache: next, generation, promptTokens });
  return { episode, retired };
}
