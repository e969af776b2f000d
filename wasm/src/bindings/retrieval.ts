// Typed bindings of the retrieval kernels (wasm/assembly/{similarity,
// column-scores,topk,kmeans,embed}.ts): similarity scans, column-major
// scans, top-k, k-means, hashing embedder.
//
// Two ways in:
// - `retrievalBindings(instance)` implements the `Kernels` contract: inputs
//   are copied into the instance's arena, the kernel runs, results are copied
//   out as fresh arrays and the arena is reset (scoped) before returning.
// - `ResidentRows` (resident-rows.ts) keeps a row matrix inside WASM memory so it is written
//   once (straight into `rows()`, no intermediate copy) and scanned many
//   times; only the query goes in and the scores (or just the top-k) come
//   out. `ResidentColumns` is the same matrix stored column-major, for
//   sparse queries (a scan reads only the query's nonzero dims). Each owns
//   a dedicated instance of the kernels module, so its rows can never be
//   overwritten by another binding resetting a shared arena, and dropping
//   the object frees the memory (GC).
import type { Kernels, TopK } from "../kernels";
import { instantiateKernels, type KernelInstance } from "../instance";
import type { Arena } from "../arena";
import { checkColumnScan, checkFinite, checkQuery, resolveEmbedDim, rowCount } from "../retrieval-checks";
import { encodeTokens, tokenize } from "../text-features";
import { checkedCount, checkStoreShape, kmeansAt, reserveScratchHeadroom, retrievalExports, SCRATCH_HEADROOM, topKAt, topKOfAt, type Fn, type RetrievalExports } from "./retrieval-steps";

export type RetrievalKernels = Pick<Kernels, "dotScores" | "cosineScores" | "dotScoresBatch" | "columnScores" | "topK" | "kmeans" | "embedText">;

export { tokenize, textFeatures, documentBuckets, idfFromDocumentFrequency, DEFAULT_EMBED_DIM } from "../text-features";
export type { TextFeature } from "../text-features";

// ---- the Kernels contract ----------------------------------------------------

export function retrievalBindings(instance: KernelInstance): RetrievalKernels {
  const x = retrievalExports(instance);
  const { arena } = instance;

  const scan = (what: string, kernel: Fn, query: Float32Array, rows: Float32Array, dim: number): Float32Array => {
    const n = rowCount(what, rows, dim);
    checkQuery(what, query, dim);
    return arena.scoped(() => {
      const q = arena.put(query);
      const r = arena.put(rows);
      const out = arena.alloc(n * 4);
      kernel(q, r, n, dim, out);
      return arena.f32(out, n).slice();
    });
  };

  return {
    dotScores: (query, rows, dim) => scan("dotScores", x.dotRowsF32, query, rows, dim),
    cosineScores: (query, rows, dim) => scan("cosineScores", x.cosineRowsF32, query, rows, dim),
    dotScoresBatch(queries, rows, dim) {
      const n = rowCount("dotScoresBatch", rows, dim);
      const nq = rowCount("dotScoresBatch: queries", queries, dim);
      return arena.scoped(() => {
        const q = arena.put(queries);
        const r = arena.put(rows);
        const out = arena.alloc(nq * n * 4);
        x.dotRowsBatchF32(q, nq, r, n, dim, out);
        return arena.f32(out, nq * n).slice();
      });
    },
    columnScores(columns, stride, n, indices, values) {
      checkColumnScan("columnScores", columns, stride, n, indices, values);
      return arena.scoped(() => {
        const c = arena.put(columns);
        const idx = arena.put(indices);
        const val = arena.put(values);
        const out = arena.alloc(n * 4);
        x.columnScoresF32(c, stride, n, idx, val, indices.length, out);
        return arena.f32(out, n).slice();
      });
    },
    topK(scores, k, after) {
      return arena.scoped(() => topKAt(x, arena, arena.put(scores), scores.length, k, after));
    },
    kmeans(data, dim, options) {
      const n = rowCount("kmeans", data, dim);
      checkFinite("kmeans: data", data);
      return arena.scoped(() => kmeansAt(x, arena, arena.put(data), n, dim, options));
    },
    embedText(text, options = {}) {
      const dim = resolveEmbedDim(options.dim, options.idf);
      const tokens = tokenize(text);
      const { bytes, offsets } = encodeTokens(tokens);
      return arena.scoped(() => {
        const b = arena.put(bytes);
        const o = arena.put(offsets);
        const idf = options.idf ? arena.put(options.idf) : 0;
        const out = arena.alloc(dim * 4);
        const scratch = arena.alloc(x.embedScratchBytes(tokens.length, dim));
        x.embedTokensF32(b, o, tokens.length, dim, idf, out, scratch);
        return arena.f32(out, dim).slice();
      });
    },
  };
}

// ---- resident columns --------------------------------------------------------

/**
 * A capacity × dim fp32 matrix resident in WASM memory, stored column-major
 * (column j holds dim j of every row; stride = capacity), so a scan reads only
 * the columns where the query is nonzero (wasm/assembly/column-scores.ts).
 * The hashing embedder's queries are sparse (a short message: a few dozen of
 * 384 dims), so a scan reads ~nnz/dim of what a row-major scan (ResidentRows)
 * reads; a dense query reads everything, as ResidentRows does.
 *
 *   const cols = ResidentColumns.create(module, 25_000, 384);
 *   cols.writeRow(i, embedding);           // strided into the columns
 *   cols.count = n;
 *   const best = cols.topKDot(query, 10);  // nonzero dims → scan → top-k, in WASM
 *
 * Scores are summed over the query's nonzero dims in dim order (f32, no FMA),
 * so they can differ from ResidentRows' in the last bits; a dim where the
 * query is ±0 contributes nothing even where a row holds NaN/Inf there.
 * Scans cover the first `count` rows. One dedicated instance per store (as
 * ResidentRows), with 256 KiB of scratch headroom allocated up front: scans,
 * top-k with k ≤ 16384 and row writes never grow memory, so views stay valid
 * until the next scan. `grow` widens the columns inside the same memory
 * (`memory.grow`, then each column moved to its new stride), so a growing
 * store never holds a second instance beside it (docs/memory.md).
 */
export class ResidentColumns {
  private count_: number;
  private capacity_: number;
  private nnz_ = 0;
  private readonly x: RetrievalExports;
  private readonly arena: Arena;
  private readonly queryPtr: number;
  private readonly idxPtr: number;
  private readonly valPtr: number;
  /** The columns, then the scores: last in the arena, so growth extends them in place. */
  private readonly colsPtr: number;
  private scoresPtr = 0;

  private constructor(
    instance: KernelInstance,
    capacity: number,
    readonly dim: number,
  ) {
    this.x = retrievalExports(instance);
    this.arena = instance.arena;
    this.queryPtr = this.arena.alloc(dim * 4);
    this.idxPtr = this.arena.alloc(dim * 4);
    this.valPtr = this.arena.alloc(dim * 4);
    this.colsPtr = this.arena.mark();
    this.capacity_ = capacity;
    this.count_ = capacity;
    this.layout(capacity);
  }

  /** A dedicated instance of `module` (the kernels module) holding capacity × dim zeros, column-major. */
  static create(module: WebAssembly.Module, capacity: number, dim: number): ResidentColumns {
    checkStoreShape("ResidentColumns", capacity, dim);
    return new ResidentColumns(instantiateKernels(module), capacity, dim);
  }

  /** Places columns (stride `capacity`) and scores from colsPtr, with the scratch headroom after them. */
  private layout(capacity: number): void {
    this.arena.reset(this.colsPtr);
    this.arena.alloc(capacity * this.dim * 4);
    this.scoresPtr = this.arena.alloc(capacity * 4);
    reserveScratchHeadroom(this.arena);
  }

  /** Rows the store holds (the column stride). */
  get capacity(): number {
    return this.capacity_;
  }

  /** Rows the scans cover (the first `count` of `capacity`). */
  get count(): number {
    return this.count_;
  }
  set count(n: number) {
    this.count_ = checkedCount("ResidentColumns", n, this.capacity_);
  }

  /** Bytes of WASM memory this store reserves: columns, scores, query buffers and the scratch headroom. */
  get bytes(): number {
    return this.capacity_ * (this.dim + 1) * 4 + 3 * this.dim * 4 + SCRATCH_HEADROOM;
  }

  /** Nonzero dims of the last scan's query (how many columns it read). */
  get lastNonzeroDims(): number {
    return this.nnz_;
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity_) throw new RangeError(`ResidentColumns: row ${i} outside [0, ${this.capacity_})`);
  }

  /** Column j (all capacity rows), a view into WASM memory. */
  column(j: number): Float32Array {
    if (!Number.isInteger(j) || j < 0 || j >= this.dim) throw new RangeError(`ResidentColumns: column ${j} outside [0, ${this.dim})`);
    return this.arena.f32(this.colsPtr + j * this.capacity_ * 4, this.capacity_);
  }

  /** Copies vec (length dim) into row i, strided across the columns (in WASM). */
  writeRow(i: number, vec: Float32Array): void {
    this.checkRow(i);
    checkQuery("writeRow", vec, this.dim);
    this.arena.f32(this.queryPtr, this.dim).set(vec);
    this.x.rowsToColumnsF32(this.queryPtr, 1, this.dim, this.colsPtr + i * 4, this.capacity_);
  }

  /** A copy of row i, gathered from the columns. */
  readRow(i: number): Float32Array {
    this.checkRow(i);
    const all = this.arena.f32(this.colsPtr, this.capacity_ * this.dim);
    const out = new Float32Array(this.dim);
    for (let j = 0, o = i; j < this.dim; j++, o += this.capacity_) out[j] = all[o]!;
    return out;
  }

  /**
   * Widens the store to `capacity` rows in its own memory: the memory grows
   * (never shrinks), then each column moves to its new stride, last column
   * first (each lands at or above where it was, so no column is overwritten
   * before it moved), and the new rows are zero. Rows and count are kept;
   * earlier views and the last scan's scores are invalid afterwards.
   */
  grow(capacity: number): void {
    checkStoreShape("ResidentColumns", capacity, this.dim);
    const old = this.capacity_;
    if (capacity < old) throw new RangeError(`ResidentColumns: cannot shrink from ${old} to ${capacity} rows`);
    if (capacity === old) return;
    this.layout(capacity);
    const all = this.arena.f32(this.colsPtr, capacity * this.dim);
    for (let j = this.dim - 1; j >= 0; j--) {
      all.copyWithin(j * capacity, j * old, (j + 1) * old);
      all.fill(0, j * capacity + old, (j + 1) * capacity);
    }
    this.capacity_ = capacity;
  }

  /** Removes rows [0, r): rows [r, count) move to [0, count − r) (each column shifted down in place), count drops by r; capacity is kept. */
  dropFirst(r: number): void {
    if (!Number.isInteger(r) || r < 0 || r > this.count_) throw new RangeError(`ResidentColumns: cannot drop ${r} of ${this.count_} rows`);
    if (r === 0) return;
    const all = this.arena.f32(this.colsPtr, this.capacity_ * this.dim);
    for (let j = 0, o = 0; j < this.dim; j++, o += this.capacity_) {
      all.copyWithin(o, o + r, o + this.count_);
      all.fill(0, o + this.count_ - r, o + this.count_);
    }
    this.count_ -= r;
  }

  /** Scores of the last scan, a view into WASM memory (valid until the next scan). */
  lastScores(): Float32Array {
    return this.arena.f32(this.scoresPtr, this.count_);
  }

  /** out[i] = query · rows[i] for i < count over the query's nonzero dims (a fresh array). */
  dotScores(query: Float32Array): Float32Array {
    return this.dotScoresView(query).slice();
  }

  /** Same scores left in WASM memory: a view, valid until the next scan (no copy out). */
  dotScoresView(query: Float32Array): Float32Array {
    checkQuery("dotScores", query, this.dim);
    this.arena.f32(this.queryPtr, this.dim).set(query);
    this.nnz_ = this.x.nonzeroDimsF32(this.queryPtr, this.dim, this.idxPtr, this.valPtr);
    this.x.columnScoresF32(this.colsPtr, this.capacity_, this.count_, this.idxPtr, this.valPtr, this.nnz_, this.scoresPtr);
    return this.lastScores();
  }

  /** Top-k of the last scan's scores (ties → lower index, NaN last), without another scan. */
  topKLastScores(k: number): TopK {
    return this.arena.scoped(() => topKAt(this.x, this.arena, this.scoresPtr, this.count_, k));
  }

  /** The k rows with the largest dot product (ties → lower index, NaN last); the scores never leave WASM. */
  topKDot(query: Float32Array, k: number): TopK {
    this.dotScoresView(query);
    return this.topKLastScores(k);
  }

  /** Top-k of the last scan's scores at rows[0..n) (row numbers below count), as positions into `rows` (ties → earlier position, NaN last). */
  topKOf(rows: Int32Array, n: number, k: number): TopK {
    return this.arena.scoped(() => topKOfAt(this.x, this.arena, this.scoresPtr, this.count_, rows, n, k));
  }
}
