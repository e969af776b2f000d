// Per-message BM25 retrieval baseline (Okapi BM25; Robertson & Zaragoza,
// "The Probabilistic Relevance Framework: BM25 and Beyond", 2009), k1 = 1.2,
// b = 0.75, with the non-negative idf Lucene uses:
//   idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))
//   score(d, q) = Σ_{t ∈ q, distinct} idf(t) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|d|/avgdl))
// Documents are single history messages, tokenised exactly as epikv's
// hashing embedder tokenises (wasm/src/text-features.ts), so both see the
// same words. Messages go to selectContext as ranked candidates, best first:
// a message that does not fit is skipped and smaller ones after it may still
// fit. Ties, including the zero-score tail, go to the more recent message,
// so leftover budget fills with recent history.
import type { Candidate } from "../../../durable-objects/selection/select-context";
import { tokenize } from "../../../wasm/src/text-features";
import { historyUnits, pinnedCandidates, selectWith, type ContextPolicy, type StoredEvalMessage } from "../policy";

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export interface Bm25Index {
  /** Documents indexed (in the order given). */
  size: number;
  docLengths: Int32Array;
  avgDocLength: number;
  /** term → parallel arrays of document indices and term frequencies. */
  postings: Map<string, { docs: number[]; tfs: number[] }>;
}

export function buildBm25Index(documents: readonly string[]): Bm25Index {
  const postings: Bm25Index["postings"] = new Map();
  const docLengths = new Int32Array(documents.length);
  let total = 0;
  documents.forEach((text, d) => {
    const tokens = tokenize(text);
    docLengths[d] = tokens.length;
    total += tokens.length;
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, n] of tf) {
      let list = postings.get(term);
      if (!list) postings.set(term, (list = { docs: [], tfs: [] }));
      list.docs.push(d);
      list.tfs.push(n);
    }
  });
  return { size: documents.length, docLengths, avgDocLength: documents.length ? total / documents.length : 0, postings };
}

/** BM25 score of every indexed document for `query` (0 where no query term occurs). */
export function bm25Scores(index: Bm25Index, query: string, k1 = BM25_K1, b = BM25_B): Float64Array {
  const scores = new Float64Array(index.size);
  if (index.size === 0) return scores;
  for (const term of new Set(tokenize(query))) {
    const list = index.postings.get(term);
    if (!list) continue;
    const df = list.docs.length;
    const idf = Math.log(1 + (index.size - df + 0.5) / (df + 0.5));
    for (let i = 0; i < df; i++) {
      const d = list.docs[i]!;
      const tf = list.tfs[i]!;
      const norm = k1 * (1 - b + (b * index.docLengths[d]!) / index.avgDocLength);
      scores[d]! += (idf * tf * (k1 + 1)) / (tf + norm);
    }
  }
  return scores;
}

/**
 * Units best-first by score (ties → more recent); `scores[i]` belongs to
 * `units[i]`. Provenance says "episode -1": the message came from no episode,
 * only from this baseline's score.
 */
export function scoreRanking(units: readonly (readonly StoredEvalMessage[])[], scores: ArrayLike<number>): Candidate[] {
  if (scores.length !== units.length) throw new RangeError(`${scores.length} scores for ${units.length} units`);
  return units.map((_, i) => i)
    .sort((i, j) => scores[j]! - scores[i]! || j - i)
    .map((i): Candidate => ({ messages: units[i]!, provenance: { kind: "episode", episode: -1, score: scores[i]! } }));
}

export const bm25Policy: ContextPolicy = {
  name: "bm25",
  summary: "per-message Okapi BM25 (k1 1.2, b 0.75), best first, rest by recency",
  async prepare(conversation) {
    const pinned = pinnedCandidates(conversation);
    const units = historyUnits(conversation);
    const index = buildBm25Index(units.map((unit) => unit.map((m) => m.content).join("\n")));
    return {
      select: (query, budget) => selectWith(conversation, pinned, query, budget, { ranked: scoreRanking(units, bm25Scores(index, query)) }),
    };
  },
};
