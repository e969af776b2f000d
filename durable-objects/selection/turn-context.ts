// A turn's context, as the conversation object chooses it (reads only, but
// for the lexical window's kept floor when a first build moves it): the
// one place that ranks stored messages for a query and hands them, with the
// pinned messages and the recent window, to the budgeted selection
// (select-context.ts). The ordering rules are turn-ranking.ts' (messages:
// BM25 fused with dense scores over an episode-aware pool) and
// rank-candidates.ts' (segments: the dense pool, and the whole ranking when
// the lexical index is past its cap); this module supplies them with the
// object's state: the query's embedding and episode and the in-memory
// mirrors (mirrors.ts; the segment index holds the latest
// MAX_INDEXED_SEGMENTS segments, so no embedding is read from SQLite on a
// turn, docs/memory.md).
import type { Kernels } from "../../wasm/src/kernels";
import type { ChatMessage, ContextMessage, ContextSelection, ConversationSettings } from "../conversation/conversation-api";
import { storedMessage, type ConversationStore, type EpisodeRow, type MessageMetaRow } from "../conversation/conversation-store";
import { groupUnits } from "../conversation/tool-units";
import { reweight } from "../episodes/bucket-idf";
import type { Embedder } from "../episodes/embedder";
import type { ConversationMirrors } from "./mirrors";
import {
  DEFAULT_RANKING, rankedLoopBounds, rankedSpans, rankLimit, routeQuery, spanCandidates,
} from "./rank-candidates";
import { selectContext, type Candidate, type MessageRef } from "./select-context";
import { DEFAULT_MESSAGE_RANKING } from "./message-ranking";
import { rankedCandidates } from "./neighbours";
import { DENSE_POOL_SEGMENTS, MESSAGE_LOOP_BOUNDS, messageLoopBounds, rankTurnMessages } from "./turn-ranking";
import { conversationTokens, messageWeight, REPLY_PRIMING_TOKENS, tokensForWeight } from "./token-estimator";
import { liveBefore } from "../conversation/history-divergence";

/** What a turn's selection reads of the conversation object. */
export interface TurnContextSource {
  store: ConversationStore;
  mirrors: ConversationMirrors;
  kernels: Kernels;
  embedder: Embedder;
  settings: ConversationSettings;
  charsPerToken: number;
}

interface RoutedQuery {
  q: Float32Array;
  idf: Float32Array | null;
  dim: number;
  episodes: readonly Readonly<EpisodeRow>[];
  matched: Readonly<EpisodeRow>;
}

/**
 * Chooses the context for `query` plus the turn's new messages (reads only; a lexical index built past
 * its cap keeps its window's floor in meta, mirrors.ts).
 * `forkAt`: the turn forks there (conversation/history-divergence.ts), so
 * only the messages before it are the conversation; every candidate is
 * filtered by that per-message predicate (liveBefore). Once the fork is
 * committed the superseded messages are out of the live tables and mirrors.
 */
export async function turnContext(source: TurnContextSource, query: string, budget: number, turn: readonly ChatMessage[], forkAt: number | null = null): Promise<ContextSelection> {
  const { store, mirrors, settings, charsPerToken: cpt } = source;
  const live = liveBefore(forkAt);
  const count = forkAt ?? store.counter("messages");
  const refs = (rows: readonly MessageMetaRow[]): MessageRef[] => rows.map((r) => ({ seq: r.seq, tokens: tokensForWeight(r.weight, cpt) }));
  const turnTokens = turn.map((m) => tokensForWeight(messageWeight(m), cpt));

  const required: Candidate[] = store.pinnedMeta().filter((r) => live(r.seq)).map((r) => ({ messages: refs([r]), provenance: { kind: "pinned" } }));
  if (turn[0]?.role === "tool" && count > 0 && forkAt === null) {
    // The new tool result answers a stored assistant tool call: send the whole unit.
    const last = store.lastMessage()!;
    required.push({ messages: refs(store.unitWidenedMeta(last.unit_head, last.seq)), provenance: { kind: "recent" } });
  }
  const recentRows = recentMeta(source, settings.recent_messages, count).filter((r) => live(r.seq));
  const recent: Candidate[] = groupUnits(recentRows.map((r) => ({ ...r, unitHead: r.unit_head })))
    .reverse()
    .map((unit) => ({ messages: refs(unit), provenance: { kind: "recent" } }));

  const routed = await routedQuery(source, query);
  // No await from here to selectContext: the ranked sequences are lazy and must be consumed before the mirrors change.
  const lexical = mirrors.lexicalIndex();
  const limit = rankLimit(budget, settings.window);
  const total = conversationTokens(store.counter("weight"), count, cpt);
  // About how many of the conversation's messages the budget holds: the lexical ranking's first page.
  const expectedMessages = Math.ceil(budget / Math.max(1, total / Math.max(1, count)));
  const { ranked: rankedAll, bounds } = lexical
    ? { ranked: rankedMessages(source, routed, refs, query, live, expectedMessages), bounds: messageLoopBounds(smallestMessageTokens(source)) }
    : { ranked: routed ? rankedSegments(source, routed, refs, limit) : [], bounds: rankedLoopBounds(settings.window) };
  const ranked = forkAt === null ? rankedAll : liveCandidates(rankedAll, live);
  const matched = routed ? routed.matched.id : null;
  const result = selectContext({ budgetTokens: budget, baseTokens: REPLY_PRIMING_TOKENS, required, turnTokens, recent, ranked, ...bounds });

  const rows = mirrors.texts.get(result.stored.map((s) => s.seq), (missing) => store.messagesBySeq(missing));
  const messages: ContextMessage[] = result.stored.map((s) => {
    const stored = storedMessage(rows.get(s.seq)!);
    return { ...contextFields(stored), seq: s.seq, id: stored.id, tokens: s.tokens, provenance: s.provenance };
  });
  turn.forEach((m, i) => messages.push({ ...contextFields(m), seq: null, id: null, tokens: turnTokens[i]!, provenance: { kind: "turn" } }));
  return { messages, matched_episode: matched, budget_tokens: budget, used_tokens: result.usedTokens, conversation_tokens: total };
}

/** Tokens of the lightest message stored (from the metadata mirror; without it, the per-message floor). */
function smallestMessageTokens({ mirrors, charsPerToken }: TurnContextSource): number {
  const meta = mirrors.messageMeta();
  return meta && meta.count > 0 ? tokensForWeight(meta.minWeight, charsPerToken) : MESSAGE_LOOP_BOUNDS.minCandidateTokens;
}

/** The last `n` of the first `count` messages' metadata, widened back to the head of the first one's unit: from the metadata mirror (no SQL) when it is built. */
export function recentMeta({ store, mirrors }: Pick<TurnContextSource, "store" | "mirrors">, n: number, count: number): MessageMetaRow[] {
  const meta = n > 0 && count > 0 ? mirrors.messageMeta() : null;
  return meta && count <= meta.count ? meta.unitWidened(Math.max(0, count - n), count - 1) : store.recentMeta(n, count);
}

/** The query's weighted embedding and the episode it is routed to (null: no episodes yet, or an empty query). */
async function routedQuery({ store, mirrors, kernels, embedder }: TurnContextSource, query: string): Promise<RoutedQuery | null> {
  const episodes = store.sharedEpisodes();
  if (!episodes.length || query.trim() === "") return null;
  const dim = episodes[0]!.centroid.length;
  const idf = mirrors.clusterIdf();
  const [raw] = await embedder.embed([query]);
  if (raw!.length !== dim) throw new Error(`query embedding has ${raw!.length} dims, episodes ${dim}`);
  const q = reweight(raw!, idf);
  return { q, idf, dim, episodes, matched: routeQuery(kernels, q, episodes, DEFAULT_RANKING.route)! };
}

/**
 * Ranked messages (turn-ranking.ts), lazily widened to whole tool units
 * from the in-memory metadata. The dense pool and the dense scores come
 * from the segment ranking when there are episodes (a message scores as
 * its segment), so a turn embeds only its query.
 */
function rankedMessages(
  source: TurnContextSource, routed: RoutedQuery | null, refs: (rows: readonly MessageMetaRow[]) => MessageRef[], query: string,
  live: (seq: number) => boolean, expectedMessages: number,
): Iterable<Candidate> {
  const { store, mirrors } = source;
  const lexical = mirrors.lexicalIndex()!;
  const segmentIndex = routed ? mirrors.segmentIndex() : null;
  // Episodes exist (routed), so segments do, so the index does. The message ranking reads the best DENSE_POOL_SEGMENTS spans only.
  const spans = routed && segmentIndex ? rankedSpans(segmentIndex, routed.q, routed.matched, routed.episodes, DEFAULT_RANKING, DENSE_POOL_SEGMENTS) : null;
  const order = rankTurnMessages({
    lexical, query, spans, messageDense: null, weights: DEFAULT_MESSAGE_RANKING, expectedMessages,
    // Only the lexical window's messages are offered (all of them unless the conversation outgrew MAX_LEXICAL_BYTES; mirrors.ts).
    eligible: (seq) => { const role = lexical.role(seq); return role !== null && role !== "system"; },
    // The feedback documents (a few per turn), from the text cache; a message an edit supersedes gives nothing.
    textsOf: (seqs) => {
      const rows = mirrors.texts.get(seqs.filter(live), (missing) => store.messagesBySeq(missing));
      return seqs.map((seq) => rows.get(seq)?.content ?? "");
    },
  });
  const meta = mirrors.messageMeta();
  const widen = (first: number, last: number) => refs(meta ? meta.unitWidened(first, last) : store.unitWidenedMeta(first, last));
  return rankedCandidates(order, widen, (seq) => lexical.role(seq), { top: DEFAULT_MESSAGE_RANKING.neighbourTop, radius: DEFAULT_MESSAGE_RANKING.neighbourRadius });
}

/**
 * Ranked segments (rank-candidates.ts: relevance with the matched
 * episode's bonus), as a lazy sequence of widened candidates: selection
 * usually stops after a few dozen, so only those are ranked past the
 * first chunks and widened.
 */
function rankedSegments(source: TurnContextSource, routed: RoutedQuery, refs: (rows: readonly MessageMetaRow[]) => MessageRef[], limit: number): Iterable<Candidate> {
  const { store, mirrors } = source;
  const segmentIndex = mirrors.segmentIndex();
  const order = segmentIndex ? rankedSpans(segmentIndex, routed.q, routed.matched, routed.episodes, DEFAULT_RANKING, limit) : [];
  const meta = mirrors.messageMeta();
  // Widened lazily from the in-memory metadata (no SQL).
  const widen = (first: number, last: number) => refs(meta ? meta.unitWidened(first, last) : store.unitWidenedMeta(first, last));
  return spanCandidates(order, widen, limit);
}

/** Ranked candidates restricted to live messages (a fork is pending): each keeps its live messages, or is dropped. */
function* liveCandidates(ranked: Iterable<Candidate>, live: (seq: number) => boolean): Iterable<Candidate> {
  for (const c of ranked) {
    const messages = c.messages.filter((m) => live(m.seq));
    if (messages.length) yield messages.length === c.messages.length ? c : { ...c, messages };
  }
}

function contextFields(m: ChatMessage): Pick<ContextMessage, "role" | "content" | "name" | "tool_call_id" | "tool_calls"> {
  const out: Pick<ContextMessage, "role" | "content" | "name" | "tool_call_id" | "tool_calls"> = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
  return out;
}
