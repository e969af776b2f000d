// One turn's message ranking, as the Durable Object and the context
// evaluation both run it: the lexical index scores every message (twice:
// the second pass adds the first pass's feedback terms, feedback.ts), the
// episode-aware segment ranking (rank-candidates.ts) contributes the dense
// pool, the hashing embedder scores the pool's messages, and
// message-ranking.ts fuses and orders them. Pure apart from the callbacks.
import type { Kernels } from "../../wasm/src/kernels";
import { reweight } from "../episodes/bucket-idf";
import type { ScoredSpan } from "./rank-candidates";
import type { LexicalIndex } from "./lexical-index";
import { lexicalTerms, MIN_INFORMATIVE_IDF, questionTerms } from "./lexical-index";
import { rankMessages, type MessageRankingWeights, type ScoredMessage } from "./message-ranking";
import { expandableTerms, expandQuery } from "./related-terms";
import { feedbackTerms } from "./feedback";
import { MESSAGE_OVERHEAD_TOKENS } from "./token-estimator";

/** A feedback document's words come from its first this many characters: a pasted book costs a turn no more than a page. */
export const MAX_FEEDBACK_CHARS = 8192;
/** Segments of the dense ranking whose messages join the candidate pool. */
export const DENSE_POOL_SEGMENTS = 32;
/**
 * selectContext's bounds on the ranked loop for message candidates: no
 * message costs less than its overhead plus one token, and after this many
 * candidates in a row that did not fit the budget is as spent as it gets
 * (each skip costs a metadata lookup; this bounds a turn's work).
 */
export const MESSAGE_LOOP_BOUNDS = { minCandidateTokens: MESSAGE_OVERHEAD_TOKENS + 1, maxConsecutiveSkips: 256 } as const;

/**
 * MESSAGE_LOOP_BOUNDS for a conversation none of whose messages costs less
 * than `smallestMessageTokens`: the loop stops once not even that fits what
 * is left. The bound is exact (every candidate holds at least one message
 * not yet chosen, or costs nothing and adds nothing), so the selection is
 * the same; a budget filled to within one message no longer reads up to
 * maxConsecutiveSkips candidates, nor the lexical ranking's next page for them.
 */
export function messageLoopBounds(smallestMessageTokens: number): { minCandidateTokens: number; maxConsecutiveSkips: number } {
  return { ...MESSAGE_LOOP_BOUNDS, minCandidateTokens: Math.max(MESSAGE_LOOP_BOUNDS.minCandidateTokens, smallestMessageTokens) };
}

export interface TurnRankingInput {
  lexical: LexicalIndex;
  query: string;
  /** The episode-aware dense ranking of segments, best first (null: no episodes yet). */
  spans: Iterable<ScoredSpan> | null;
  /**
   * Dense scores of messages. Null (what the Durable Object passes): a message scores as its segment in
   * the dense ranking, 0 outside the DENSE_POOL_SEGMENTS best (hybrid fusion of two top lists). The
   * evaluation's "per-message dense" ablation passes messageDenseScores instead (docs/context-selection.md
   * says why the object does not: embedding the pool's texts costs more than the rest of a turn).
   */
  messageDense: ((seqs: readonly number[]) => Float32Array) | null;
  weights: MessageRankingWeights;
  /** Messages that may be offered (not system, not superseded). */
  eligible(seq: number): boolean;
  /** Stored messages' content (one read for all): the feedback documents. */
  textsOf(seqs: readonly number[]): string[];
  /**
   * About how many messages the budget holds (budget ÷ the conversation's mean message tokens): the
   * lexical ranking's first page covers them past the pool, so a budget of many short messages reads
   * the ranking in one pass instead of a page at a time. Any value gives the same order (message-ranking.ts).
   */
  expectedMessages?: number;
}

export function rankTurnMessages(input: TurnRankingInput): Generator<ScoredMessage> {
  const terms = input.weights.dropQuestionWords ? questionTerms(input.query) : lexicalTerms(input.query);
  const scores = lexicalScores(input, terms);
  const densePool: number[] = [];
  const spanOf = new Map<number, ScoredSpan>();
  if (input.spans) {
    let n = 0;
    for (const s of input.spans) {
      if (n++ >= DENSE_POOL_SEGMENTS) break;
      for (let seq = s.first; seq <= s.last; seq++) {
        if (spanOf.has(seq)) continue;
        spanOf.set(seq, s);
        densePool.push(seq);
      }
    }
  }
  const segmentDense = (seqs: readonly number[]) => {
    // A plain loop: Float32Array.from with a map function goes through the iterator protocol (≈ 0.1 ms a turn).
    const out = new Float32Array(seqs.length);
    for (let i = 0; i < seqs.length; i++) out[i] = spanOf.get(seqs[i]!)?.score ?? 0;
    return out;
  };
  return rankMessages({
    lexical: scores,
    lexicalBase: input.lexical.base,
    topK: (k, after) => input.lexical.scorer.topK(k, after),
    densePool,
    dense: input.messageDense ?? segmentDense,
    episodeOf: (seq) => spanOf.get(seq)?.episode ?? null,
    eligible: input.eligible,
  }, input.weights, input.expectedMessages);
}

/** Cosine of the query's weighted unit embedding with each text's (hashing embedder, same IDF). */
export function messageDenseScores(kernels: Kernels, weightedQuery: Float32Array, texts: readonly string[], idf: Float32Array | null): Float32Array {
  const dim = weightedQuery.length;
  const out = new Float32Array(texts.length);
  texts.forEach((text, i) => {
    const v = reweight(kernels.embedText(text, { dim }), idf);
    let dot = 0;
    for (let b = 0; b < dim; b++) if (weightedQuery[b] !== 0) dot += weightedQuery[b]! * v[b]!;
    out[i] = dot;
  });
  return out;
}

/**
 * BM25 of every message for the question's terms and their related terms, then, with feedback on,
 * plus the feedback terms of the first pass's best messages (a related term that is also a
 * feedback term counts with the larger weight of the two: the second pass adds the excess). The
 * second pass scores only the feedback terms' postings, not the question's again. A view of the
 * index's scorer's scores (message lexical.base + i at i), valid until its next query.
 */
function lexicalScores(input: TurnRankingInput, terms: readonly string[]): Float32Array {
  const { lexical, weights } = input;
  const { scorer } = lexical;
  // Terms in half the messages or more are left out, as feedback leaves them out: no evidence, most of the postings.
  const informative = (t: string) => lexical.idf(t) > MIN_INFORMATIVE_IDF;
  const expansion = new Map([...expandQuery(terms, weights.expansion, expandableTerms(input.query))].filter(([t]) => informative(t)));
  const first = lexical.query(terms.filter(informative), expansion);
  if (!first) return scorer.zero(lexical.windowSize);
  const scores = scorer.score(first);
  if (weights.feedbackDocuments <= 0 || weights.feedbackTerms <= 0 || !(weights.feedbackWeight > 0)) return scores;
  const top = scorer.topK(weights.feedbackDocuments);
  const matched = Array.from(top.indices).filter((i, r) => top.scores[r]! > 0 && input.eligible(lexical.base + i));
  const texts = input.textsOf(matched.map((i) => lexical.base + i));
  const documents = matched.map((i, d) => ({ terms: lexicalTerms(texts[d]!.slice(0, MAX_FEEDBACK_CHARS)), score: scores[i]! }));
  const feedback = feedbackTerms(documents, new Set(terms), weights.feedbackTerms, weights.feedbackWeight, (t) => lexical.idf(t));
  const added = new Map<string, number>();
  for (const [t, w] of feedback) if (w > (expansion.get(t) ?? 0)) added.set(t, w - (expansion.get(t) ?? 0));
  const second = lexical.query([], added);
  return second ? scorer.score(second, true) : scores;
}
