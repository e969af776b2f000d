// The contract every implementation of epikv's numeric kernels meets.
//
// Two implementations exist: `wasmKernels(module)` (wasm/src/wasm-kernels.ts,
// AssemblyScript SIMD) and `oracleKernels` (wasm/oracle/, plain TypeScript,
// written for clarity). Tests run both on the same inputs and compare; the
// rest of epikv depends only on this interface.
//
// Conventions:
// - matrices are row-major Float32Array; `n` rows of `dim` values;
// - results are fresh arrays owned by the caller (never views into WASM memory);
// - NaN scores rank below every number (including -Infinity) in top-k and
//   selection; ties are broken by the lower index.

/** Indices and scores of the k largest scores, best first. */
export interface TopK {
  indices: Int32Array;
  scores: Float32Array;
}

/** One entry of a ranking: a top-k's last, where the next page starts. */
export interface RankedEntry {
  score: number;
  index: number;
}

export interface KMeansOptions {
  k: number;
  /** Seed of the deterministic PRNG used for k-means++ seeding. */
  seed: number;
  /** Lloyd iterations per restart; default 300. */
  maxIter?: number;
  /** Stop when the centroids move less than tol (squared Frobenius norm, sklearn-style relative to data variance); default 1e-4. */
  tol?: number;
  /** Restarts (each with the next seed); the lowest inertia wins; default 4. */
  nInit?: number;
}

export interface KMeansResult {
  labels: Int32Array;
  /** k × dim raw means (not normalised). */
  centroids: Float32Array;
  inertia: number;
  iterations: number;
}

export interface EmbedOptions {
  /** Output dimension; default 384. */
  dim?: number;
  /** Per-bucket weights (length dim) multiplied into the hashed counts, e.g. per-conversation IDF. */
  idf?: Float32Array;
}

export type QuantBits = 8 | 4;
export type QuantGroup = 32 | 64 | 128;

/** Group-wise asymmetric quantization: x ≈ q · scale + zero per group. */
export interface QuantizedTensor {
  bits: QuantBits;
  groupSize: QuantGroup;
  /** Number of values encoded. */
  length: number;
  /** int8: one byte per value; int4: two values per byte, low nibble first. */
  data: Uint8Array;
  /** One per group (ceil(length / groupSize)). */
  scales: Float32Array;
  zeros: Float32Array;
}

/** How per-query attention probabilities are reduced to one score per key. */
export type AttentionReduce =
  /** EpiCache: max over all query rows. */
  | { kind: "max" }
  /** SnapKV: mean over query rows, then an optional 1-D max-pool of odd width `pool` (1 = none). */
  | { kind: "mean"; pool?: number };

export interface SelectOptions {
  /** Entries kept per head (per-head mode) or per head on average (pooled mode: B·H kept in total). */
  budget: number;
  /** "pooled": top B·H across all heads of the layer (AdaKV-style); "per-head": top B in each head. */
  mode: "pooled" | "per-head";
  /** Optional length-n mask of positions always kept in every head (sinks, recent window). */
  protect?: Uint8Array;
}

/**
 * A query's postings for bm25Scores: term t's postings are the bytes posts[starts[t] .. starts[t+1]),
 * compressed (wasm/src/bm25-postings.ts: document gaps and tf in varints); lengths[d] is document d's
 * length in terms (durable-objects/selection/lexical-index.ts).
 */
export interface Bm25Query {
  posts: Uint8Array;
  starts: Int32Array;
  /** One weight per term (starts.length − 1). */
  idf: Float32Array;
  lengths: Uint32Array;
  avgDocLength: number;
  k1: number;
  b: number;
}

/**
 * BM25 scores of one query at a time for one lexical index, and pages of
 * their ranking (durable-objects/selection/turn-ranking.ts). The index's
 * document lengths only grow at the end, so an implementation may keep its
 * own copy and add only the new ones; an index takes a scorer over with
 * `clear` (its lengths start again). Two implementations: ResidentBm25 keeps
 * lengths and scores in WASM memory (no copies per pass), copyingBm25Scorer
 * runs any Kernels (the plain-TS oracle in tests) over a JS buffer.
 */
export interface Bm25Scorer {
  /** Scores every document of the query (added to the last scores with `add`); a view that the next score, zero or clear replaces. */
  score(query: Bm25Query, add?: boolean): Float32Array;
  /** n documents, every score 0 (a query none of whose terms is indexed). */
  zero(n: number): Float32Array;
  /** Top-k of the last scores, or with `after` the page after it (Kernels.topK). k ≤ MAX_SCORER_TOP_K. */
  topK(k: number, after?: RankedEntry): TopK;
  /** Forgets the lengths it copied (a new index takes it over). */
  clear(): void;
  /** Bytes it holds. */
  readonly bytes: number;
  /** Bytes it would hold once it has scored n documents (what a cap on the index counts). */
  bytesFor(n: number): number;
}

/** The largest top-k (or page) a Bm25Scorer answers: its scratch is reserved up front, so views of its scores stay valid. */
export const MAX_SCORER_TOP_K = 4096;

export interface Kernels {
  /** out[i] = q · rows[i]. */
  dotScores(query: Float32Array, rows: Float32Array, dim: number): Float32Array;
  /** out[i] = cos(q, rows[i]); 0 where either norm is 0. */
  cosineScores(query: Float32Array, rows: Float32Array, dim: number): Float32Array;
  /** nq queries (nq × dim) against n rows: out[qi * n + i]. */
  dotScoresBatch(queries: Float32Array, rows: Float32Array, dim: number): Float32Array;
  /**
   * Scores against a column-major matrix (column j = columns[j·stride, j·stride + n)), reading only the
   * columns named: out[i] = Σ_k values[k] · columns[indices[k]·stride + i] for i < n ≤ stride, summed in
   * k order in f32 (bit-exact between implementations; docs/kernels.md). Duplicate indices each add a term.
   */
  columnScores(columns: Float32Array, stride: number, n: number, indices: Int32Array, values: Float32Array): Float32Array;
  /**
   * Okapi BM25 score of each of the lengths.length documents (0 where no query term occurs), f32 in a fixed order
   * (docs/kernels.md). With `out` (at least that long) the scores are written there and its first lengths.length
   * entries returned: a caller that scores every turn reuses one buffer instead of allocating one per query.
   * With `add`, they are added to what `out` holds (a later pass with more terms), in the same order as if
   * those terms had followed the earlier pass's.
   */
  bm25Scores(query: Bm25Query, out?: Float32Array, add?: boolean): Float32Array;
  /**
   * The k largest (k clipped to scores.length), best first, ties → lower index, NaN last. With `after`,
   * the k best of the entries ranking strictly after it (fewer when fewer do): the ranking's next page.
   */
  topK(scores: Float32Array, k: number, after?: RankedEntry): TopK;

  /** k-means++ seeding + Lloyd, n_init restarts; deterministic for a seed. k is clipped to n. */
  kmeans(data: Float32Array, dim: number, options: KMeansOptions): KMeansResult;

  /** Signed feature hashing of word unigrams and bigrams, sublinear TF, optional IDF, L2-normalised (all-zero for empty text). */
  embedText(text: string, options?: EmbedOptions): Float32Array;

  /**
   * Group-wise quantization of fp32 values: zero = group min, scale = (max − min)/(2^bits − 1),
   * codes rounded half to even, so |x − dequantized| ≤ scale/2 (up to fp32 rounding; docs/kernels.md).
   * Non-finite inputs are rejected with a RangeError naming the first one.
   */
  quantize(values: Float32Array, bits: QuantBits, groupSize: QuantGroup): QuantizedTensor;
  /** Same, from IEEE fp16 bit patterns (widened exactly; exponent-31 patterns, ±Inf/NaN, are a RangeError). */
  quantizeF16(bits16: Uint16Array, bits: QuantBits, groupSize: QuantGroup): QuantizedTensor;
  dequantize(q: QuantizedTensor): Float32Array;

  /**
   * Attention of rows q (nq × d, e.g. G query heads × prompt positions) over keys k (n × d):
   * A = softmax(q·kᵀ/√d) row-wise in fp32 (max-subtracted), reduced per key → length n.
   * The max-pool window is cut at the edges (−Inf padding). Non-finite q/k values, and rows whose
   * logits overflow fp32, are a RangeError; nq = 0 gives zeros, n = 0 an empty array.
   */
  attentionScores(q: Float32Array, k: Float32Array, d: number, reduce: AttentionReduce): Float32Array;
  /** H2O: acc[i] += Σ over query rows of softmax(q·kᵀ/√d)[i]; acc has length n and is updated in place (untouched on error). */
  accumulateAttention(acc: Float32Array, q: Float32Array, k: Float32Array, d: number): void;

  /**
   * Keep masks (H × n, 1 = keep) for one layer from per-head scores (H × n); order-preserving by construction.
   * Protected positions count against the budget; if they exceed it, only they are kept.
   * Ties → lower head, then lower position; NaN below every number.
   */
  selectKeep(scores: Float32Array, heads: number, options: SelectOptions): Uint8Array;

  /**
   * docs/architecture.md, EpiCache step 6: per-layer integer budgets from sensitivities; α = 0 (or equal
   * sensitivities) gives every layer M; each budget is at least max(1, floor(M/4)). M a positive integer.
   */
  allocateLayerBudgets(sensitivity: Float64Array, budget: number, alpha: number): Int32Array;
}
