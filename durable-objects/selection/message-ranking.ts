// Step 4 of context selection: which stored messages a turn offers after the
// pinned messages and the recent window, best first
// (docs/context-selection.md). Pure: scores in, an ordered sequence of scored messages out.
//
// Messages are scored one by one (turn-isolated scoring: a pooled segment
// score hides a strong single match among weak neighbours):
//   1. lexical — BM25 over messages (lexical-index.ts), every message of the
//      lexical window (all of them unless the conversation outgrew it);
//   2. a candidate pool — the lexical top `poolSize`, plus the messages of
//      the best segments of the episode-aware dense ranking (the episodes'
//      prior: the query is routed to its episode, whose segments get a small
//      bonus; no episode is a gate, every segment competes);
//   3. dense — for the pool only, from `sources.dense`: in the Durable
//      Object the cosine of the message's segment (turn-ranking.ts);
//   4. fusion — one rule: fused = (1 − λ)·lexical / max lexical + λ·dense,
//      normalised score fusion with one weight (docs/context-selection.md says
//      how λ was chosen), plus
//   5. the update rule — ρ·seq/span: of two statements that match equally
//      (a fact and its later restatement or change), the later ranks first;
//      ρ is small, so the earlier one stays just below it and is sent too
//      when the budget has room (as for a question about the change).
// After the pool: the remaining lexical matches by lexical score, then the
// messages no query term reaches, newest first, so a large budget is spent.
// The pool goes first as a whole (two-stage retrieval: fused re-ranking of
// the candidates both retrievers propose). Merging the pool with the rest
// by fused score instead cost 2–5 points on the tuning half's dialogue-style
// direct, multi-hop and temporal questions at 1/4 and 1/8: the dense pool brings the other
// messages of a matched segment, which is where a fact stated over two or
// three messages continues (docs/context-selection.md).
import { MAX_SCORER_TOP_K, type RankedEntry, type TopK } from "../../wasm/src/kernels";

export interface MessageRankingWeights {
  /** λ: weight of the dense score in the fusion. */
  dense: number;
  /** ρ: recency prior (the update rule), times seq/span. */
  recency: number;
  /** Lexical matches in the pool. */
  poolSize: number;
  /** The best this many ranked messages bring their neighbours (neighbours.ts). */
  neighbourTop: number;
  /** How many messages on each side of such a message come with it. */
  neighbourRadius: number;
  /** γ: query expansion's weight on related terms' idf (related-terms.ts); 0 turns it off. */
  expansion: number;
  /** Search without question words (lexical-index.ts QUESTION_WORDS). */
  dropQuestionWords: boolean;
  /** Pseudo-relevance feedback (feedback.ts): the first pass's best this many messages (0: no feedback)… */
  feedbackDocuments: number;
  /** …give this many terms… */
  feedbackTerms: number;
  /** …weighted up to λ_fb times their idf. */
  feedbackWeight: number;
}

export const DEFAULT_MESSAGE_RANKING: MessageRankingWeights = {
  dense: 0.3, recency: 0.02, poolSize: 128, neighbourTop: 16, neighbourRadius: 2, expansion: 1, dropQuestionWords: true,
  feedbackDocuments: 3, feedbackTerms: 20, feedbackWeight: 0.5,
};

export interface ScoredMessage {
  seq: number;
  lexical: number;
  /** Null past the pool (not computed). */
  dense: number | null;
  fused: number;
  /** The episode of the message's segment, when it is in one. */
  episode: number | null;
}

export interface RankingSources {
  /**
   * BM25 scores of messages lexicalBase, lexicalBase + 1, … up to the last seq: the lexical index's window
   * (every message, lexicalBase 0, unless the conversation outgrew it; mirrors.ts).
   */
  lexical: Float32Array;
  /** The seq `lexical[0]` scores; messages before it are not offered. */
  lexicalBase: number;
  /** The ranking of `lexical` a page at a time: its top k, or the k after `after` (the scorer; indices into `lexical`). */
  topK(k: number, after?: RankedEntry): TopK;
  /** Seqs the dense ranking of segments offers, best segment first (may repeat lexical ones). */
  densePool: readonly number[];
  /** Dense score of each given seq (same order). */
  dense(seqs: readonly number[]): Float32Array;
  episodeOf(seq: number): number | null;
  /** Whether a seq may be offered at all (stored, not a system message). */
  eligible(seq: number): boolean;
}

/** The fused pool, best first (ties → later message); `top`: the lexical top-k, best first. */
export function fusePool(sources: RankingSources, weights: MessageRankingWeights, top: TopK = sources.topK(weights.poolSize)): ScoredMessage[] {
  const { lexical, lexicalBase: base } = sources;
  const span = base + lexical.length;
  const maxLexical = top.scores.length && top.scores[0]! > 0 ? top.scores[0]! : 1;
  const seqs: number[] = [];
  const seen = new Set<number>();
  const offer = (seq: number) => {
    if (seq < base || seq >= span || seen.has(seq) || !sources.eligible(seq)) return;
    seen.add(seq);
    seqs.push(seq);
  };
  const lexicalPool = Math.min(weights.poolSize, top.indices.length);
  for (let i = 0; i < lexicalPool && top.scores[i]! > 0; i++) offer(base + top.indices[i]!);
  for (const seq of sources.densePool) offer(seq);
  const dense = seqs.length ? sources.dense(seqs) : new Float32Array(0);
  const scored = seqs.map((seq, i): ScoredMessage => {
    const lex = lexical[seq - base]!;
    const d = Number.isFinite(dense[i]!) ? dense[i]! : 0;
    const fused = (1 - weights.dense) * (lex / maxLexical) + weights.dense * d + weights.recency * (seq / span);
    return { seq, lexical: lex, dense: d, fused, episode: sources.episodeOf(seq) };
  });
  return scored.sort((a, b) => b.fused - a.fused || b.seq - a.seq);
}

/**
 * The whole order, lazily: the fused pool, then the other lexical matches
 * by score, then the rest newest first. The lexical ranking is read in
 * pages: the first serves the pool and the continuation, so it is the pool
 * plus `expected` (about as many messages as the budget holds: the pool's
 * lexical part is the ranking's head, and the continuation starts past
 * it); each next page starts after the last one's end and is twice as long
 * (at most MAX_SCORER_TOP_K). A budget usually pays for one top-k, and a
 * larger one never repeats a page's work; the order does not depend on
 * `expected`. Consume the sequence before the index changes.
 */
export function* rankMessages(sources: RankingSources, weights: MessageRankingWeights, expected = 0): Generator<ScoredMessage> {
  const { lexical, lexicalBase: base } = sources;
  const span = base + lexical.length;
  let k = Math.min(MAX_SCORER_TOP_K, weights.poolSize + Math.max(0, Math.ceil(expected)));
  let top = sources.topK(k);
  const taken = new Set<number>();
  const pool = fusePool(sources, weights, top);
  for (const m of pool) {
    taken.add(m.seq);
    yield m;
  }
  const maxLexical = top.scores.length && top.scores[0]! > 0 ? top.scores[0]! : 1;
  const later = (seq: number): ScoredMessage => ({
    seq, lexical: lexical[seq - base]!, dense: null, episode: sources.episodeOf(seq),
    fused: (1 - weights.dense) * (lexical[seq - base]! / maxLexical) + weights.recency * (seq / span),
  });
  for (let i = 0; ; i++) {
    if (i === top.indices.length) {
      // A short page ended the ranking; a page ending at a score of 0 ended the matches.
      if (top.indices.length < k || !(top.scores[i - 1]! > 0)) break;
      const end = { score: top.scores[i - 1]!, index: top.indices[i - 1]! };
      k = Math.min(MAX_SCORER_TOP_K, 2 * k);
      top = sources.topK(k, end);
      i = 0;
      if (!top.indices.length) break;
    }
    if (!(top.scores[i]! > 0)) break;
    const seq = base + top.indices[i]!;
    if (taken.has(seq) || !sources.eligible(seq)) continue;
    taken.add(seq);
    yield later(seq);
  }
  for (let seq = span - 1; seq >= base; seq--) {
    if (taken.has(seq) || !sources.eligible(seq) || lexical[seq - base]! > 0) continue;
    yield later(seq);
  }
}
