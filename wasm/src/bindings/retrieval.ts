// Typed bindings of the retrieval kernels (wasm/assembly/{similarity,
// column-scores,topk,kmeans,embed}.ts): similarity scans, column-major
// scans, top-k, k-means, hashing embedder.
//
// Two ways in:
// - `retrievalBindings(instance)` implements the `Kernels` contract: inputs
//   are copied into the instance's arena, the kernel runs, results are copied
//   out as fresh arrays and the arena is reset (scoped) before returning.
// - `ResidentRows` keeps a row matrix inside WASM memory so it is written
//   once (straight into `rows()`, no intermediate copy) and scanned many
//   times; only the query goes in and the scores (or just the top-k) come
//   out. `ResidentColumns` is the same matrix stored column-major, for
//   sparse queries (a scan reads only the query's nonzero dims). Each owns
//   a dedicated instance of the kernels module, so its rows can never be
//   overwritten by another binding resetting a shared arena, and dropping
//   the object frees the memory (GC).
import type { KMeansOptions, KMeansResult, Kernels, TopK } from "../kernels";
import { instantiateKernels, type KernelInstance } from "../instance";
import type { Arena } from "../arena";
import { checkColumnScan, checkFinite, checkQuery, clipTopK, resolveEmbedDim, resolveKMeansOptions, rowCount } from "../retrieval-checks";
import { encodeTokens, tokenize } from "../text-features";

export type RetrievalKernels = Pick<Kernels, "dotScores" | "cosineScores" | "dotScoresBatch" | "columnScores" | "topK" | "kmeans" | "embedText">;

export { tokenize, textFeatures, documentBuckets, idfFromDocumentFrequency, DEFAULT_EMBED_DIM } from "../text-features";
export type { TextFeature } from "../text-features";

type Fn = (...args: number[]) => number;

/** The raw exports this file calls, named so a missing export fails loudly at bind time. */
function retrievalExports(instance: KernelInstance) {
  const e = instance.exports;
  const fn = (name: string): Fn => {
    const f = e[name];
    if (typeof f !== "function") throw new Error(`kernels module has no export ${name}; rebuild with npm run build`);
    return f;
  };
  return {
    dotRowsF32: fn("dotRowsF32"),
    dotRowsBatchF32: fn("dotRowsBatchF32"),
    cosineRowsF32: fn("cosineRowsF32"),
    columnScoresF32: fn("columnScoresF32"),
    nonzeroDimsF32: fn("nonzeroDimsF32"),
    rowsToColumnsF32: fn("rowsToColumnsF32"),
    topKF32: fn("topKF32"),
    kmeansF32: fn("kmeansF32"),
    kmeansScratchBytes: fn("kmeansScratchBytes"),
    kmeansWorkBytes: fn("kmeansWorkBytes"),
    kmeansAssignF32: fn("kmeansAssignF32"),
    kmeansCentroidsF32: fn("kmeansCentroidsF32"),
    embedTokensF32: fn("embedTokensF32"),
    embedScratchBytes: fn("embedScratchBytes"),
  };
}
type RetrievalExports = ReturnType<typeof retrievalExports>;

// ---- pointer-level steps shared by both APIs ---------------------------------

function topKAt(x: RetrievalExports, arena: Arena, scoresPtr: number, n: number, k: number): TopK {
  const kk = clipTopK(k, n);
  const idxPtr = arena.alloc(kk * 4);
  const outPtr = arena.alloc(kk * 4);
  x.topKF32(scoresPtr, n, kk, idxPtr, outPtr);
  return { indices: arena.i32(idxPtr, kk).slice(), scores: arena.f32(outPtr, kk).slice() };
}

function kmeansAt(x: RetrievalExports, arena: Arena, dataPtr: number, n: number, dim: number, options: KMeansOptions): KMeansResult {
  const { k, seed, maxIter, tol, nInit } = resolveKMeansOptions(options, n);
  if (n === 0) return { labels: new Int32Array(0), centroids: new Float32Array(0), inertia: 0, iterations: 0 };
  const labelsPtr = arena.alloc(n * 4);
  const centPtr = arena.alloc(k * dim * 4);
  const statsPtr = arena.alloc(16);
  const scratch = arena.alloc(x.kmeansScratchBytes(n, dim, k));
  x.kmeansF32(dataPtr, n, dim, k, seed, maxIter, tol, nInit, labelsPtr, centPtr, statsPtr, scratch);
  const stats = arena.f64(statsPtr, 2);
  return {
    labels: arena.i32(labelsPtr, n).slice(),
    centroids: arena.f32(centPtr, k * dim).slice(),
    inertia: stats[0]!,
    iterations: stats[1]!,
  };
}

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
    topK(scores, k) {
      return arena.scoped(() => topKAt(x, arena, arena.put(scores), scores.length, k));
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

// ---- resident rows -----------------------------------------------------------

/** Result of one Lloyd iteration on resident rows. */
export interface LloydStep {
  /** Labels that changed in the assignment step. */
  changed: number;
  /** Σ‖new − old‖² of the centroids (the quantity compared with tol). */
  shift: number;
}

const SCRATCH_HEADROOM = 1 << 20;

function checkRowCopy(what: string, sourceDim: number, dim: number, n: number, capacity: number): void {
  if (sourceDim !== dim) throw new RangeError(`${what}: source has dim ${sourceDim}, expected ${dim}`);
  if (!Number.isInteger(n) || n < 0 || n > capacity) throw new RangeError(`${what}: cannot copy ${n} rows into capacity ${capacity}`);
}

/** What ResidentRows and ResidentColumns check when created. */
function checkStoreShape(store: string, capacity: number, dim: number): void {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`${store}: capacity must be a non-negative integer, got ${capacity}`);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${store}: dim must be a positive integer, got ${dim}`);
}

/** A valid number of rows for a scan to cover. */
function checkedCount(store: string, n: number, capacity: number): number {
  if (!Number.isInteger(n) || n < 0 || n > capacity) throw new RangeError(`${store}: count must be an integer in [0, ${capacity}], got ${n}`);
  return n;
}

/** Grows a resident store's memory once, so small scoped scratch later never detaches its views. */
function reserveScratchHeadroom(arena: Arena): void {
  const mark = arena.mark();
  arena.alloc(SCRATCH_HEADROOM);
  arena.reset(mark);
}

/**
 * A row matrix (capacity × dim fp32) resident in WASM memory.
 *
 *   const rows = ResidentRows.create(module, 100_000, 384);
 *   rows.rows().set(embeddings);          // or fill rows.row(i) one at a time
 *   const best = rows.topKDot(query, 10); // scan + top-k without copying scores out
 *
 * Scans cover the first `count` rows (default: all), so a growing matrix can
 * be preallocated and filled over time. Views (rows(), row(), lastScores(),
 * the *View scans) are invalidated when WASM memory grows. Scan buffers and
 * 1 MiB of scratch headroom are allocated up front, so scans and top-k with
 * k ≤ 65536 never grow it; kmeans, dotScoresBatch and lloydIteration may
 * (take views again after those).
 */
export class ResidentRows {
  private count_: number;
  private readonly x: RetrievalExports;
  private readonly arena: Arena;
  private readonly rowsPtr: number;
  private readonly queryPtr: number;
  private readonly scoresPtr: number;

  private constructor(
    private readonly instance: KernelInstance,
    readonly capacity: number,
    readonly dim: number,
  ) {
    this.x = retrievalExports(instance);
    this.arena = instance.arena;
    this.rowsPtr = this.arena.alloc(capacity * dim * 4);
    this.queryPtr = this.arena.alloc(dim * 4);
    this.scoresPtr = this.arena.alloc(capacity * 4);
    this.count_ = capacity;
    reserveScratchHeadroom(this.arena);
  }

  /** A dedicated instance of `module` (the kernels module: static import in workerd, loadWasmModule() in Node) holding capacity × dim rows (zeroed). */
  static create(module: WebAssembly.Module, capacity: number, dim: number): ResidentRows {
    checkStoreShape("ResidentRows", capacity, dim);
    return new ResidentRows(instantiateKernels(module), capacity, dim);
  }

  /** Rows the scans cover (the first `count` of `capacity`). */
  get count(): number {
    return this.count_;
  }
  set count(n: number) {
    this.count_ = checkedCount("ResidentRows", n, this.capacity);
  }

  /** The whole capacity × dim matrix, a view into WASM memory: write rows straight into it. */
  rows(): Float32Array {
    return this.arena.f32(this.rowsPtr, this.capacity * this.dim);
  }

  /** Row i as a view into WASM memory. */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity) throw new RangeError(`ResidentRows: row ${i} outside [0, ${this.capacity})`);
    return this.arena.f32(this.rowsPtr + i * this.dim * 4, this.dim);
  }

  /** Copies vec (length dim) into row i. */
  writeRow(i: number, vec: Float32Array): void {
    checkQuery("writeRow", vec, this.dim);
    this.row(i).set(vec);
  }

  /** A copy of row i. */
  readRow(i: number): Float32Array {
    return this.row(i).slice();
  }

  /** Copies the first n rows of `source` (same dim) into rows [0, n), e.g. into a larger store when this one is full. */
  copyRowsFrom(source: { readonly dim: number; readRow(i: number): Float32Array }, n: number): void {
    checkRowCopy("ResidentRows", source.dim, this.dim, n, this.capacity);
    if (source instanceof ResidentRows) this.rows().set(source.rows().subarray(0, n * this.dim));
    else for (let i = 0; i < n; i++) this.row(i).set(source.readRow(i));
  }

  /** Scores of the last scan, a view into WASM memory (valid until the next scan). */
  lastScores(): Float32Array {
    return this.arena.f32(this.scoresPtr, this.count_);
  }

  private scan(what: string, kernel: Fn, query: Float32Array): void {
    checkQuery(what, query, this.dim);
    this.arena.f32(this.queryPtr, this.dim).set(query);
    kernel(this.queryPtr, this.rowsPtr, this.count_, this.dim, this.scoresPtr);
  }

  /** out[i] = query · rows[i] for i < count (a fresh array). */
  dotScores(query: Float32Array): Float32Array {
    return this.dotScoresView(query).slice();
  }

  /** Same scores left in WASM memory: a view, valid until the next scan (no copy out). */
  dotScoresView(query: Float32Array): Float32Array {
    this.scan("dotScores", this.x.dotRowsF32, query);
    return this.lastScores();
  }

  /** out[i] = cos(query, rows[i]); 0 where either norm is 0 (a fresh array). */
  cosineScores(query: Float32Array): Float32Array {
    return this.cosineScoresView(query).slice();
  }

  /** Same scores left in WASM memory: a view, valid until the next scan. */
  cosineScoresView(query: Float32Array): Float32Array {
    this.scan("cosineScores", this.x.cosineRowsF32, query);
    return this.lastScores();
  }

  /** Top-k of the last scan's scores (ties → lower index, NaN last), without another scan. */
  topKLastScores(k: number): TopK {
    return this.arena.scoped(() => topKAt(this.x, this.arena, this.scoresPtr, this.count_, k));
  }

  /** The k rows with the largest dot product (ties → lower index, NaN last); the scores never leave WASM. */
  topKDot(query: Float32Array, k: number): TopK {
    this.scan("topKDot", this.x.dotRowsF32, query);
    return this.topKLastScores(k);
  }

  /** Same ranking by cosine. */
  topKCosine(query: Float32Array, k: number): TopK {
    this.scan("topKCosine", this.x.cosineRowsF32, query);
    return this.topKLastScores(k);
  }

  /** nq queries (nq × dim): out[qi * count + i]. */
  dotScoresBatch(queries: Float32Array): Float32Array {
    const nq = rowCount("dotScoresBatch: queries", queries, this.dim);
    const n = this.count_;
    return this.arena.scoped(() => {
      const q = this.arena.put(queries);
      const out = this.arena.alloc(nq * n * 4);
      this.x.dotRowsBatchF32(q, nq, this.rowsPtr, n, this.dim, out);
      return this.arena.f32(out, nq * n).slice();
    });
  }

  /** k-means over the first `count` rows (same contract as Kernels.kmeans). */
  kmeans(options: KMeansOptions): KMeansResult {
    const n = this.count_;
    checkFinite("kmeans: data", this.arena.f32(this.rowsPtr, n * this.dim));
    return this.arena.scoped(() => kmeansAt(this.x, this.arena, this.rowsPtr, n, this.dim, options));
  }

  /**
   * One Lloyd iteration (assignment, then update) over the first `count`
   * rows: `labels` (length count) and `centroids` (k × dim) are read and
   * updated in place. Empty clusters keep their centroid. Useful to refine
   * episodes incrementally as a conversation grows, and to time one iteration.
   */
  lloydIteration(centroids: Float32Array, labels: Int32Array): LloydStep {
    const n = this.count_;
    const k = rowCount("lloydIteration: centroids", centroids, this.dim);
    if (k < 1) throw new RangeError("lloydIteration: need at least one centroid");
    if (labels.length !== n) throw new RangeError(`lloydIteration: labels has length ${labels.length}, expected count ${n}`);
    return this.arena.scoped(() => {
      const a = this.arena;
      const cent = a.put(centroids);
      const lab = a.put(labels);
      const work = a.alloc(this.x.kmeansWorkBytes(k, this.dim));
      // distsPtr 0: an iteration needs no distances (see wasm/assembly/kmeans.ts)
      const changed = this.x.kmeansAssignF32(this.rowsPtr, n, this.dim, cent, k, lab, 0, work, 1);
      const shift = this.x.kmeansCentroidsF32(work, k, this.dim, cent);
      centroids.set(a.f32(cent, k * this.dim));
      labels.set(a.i32(lab, n));
      return { changed, shift };
    });
  }

  /** The instance holding the rows (for kernels this class does not wrap). */
  get kernelInstance(): KernelInstance {
    return this.instance;
  }
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
 * ResidentRows), with 1 MiB of scratch headroom allocated up front: scans,
 * top-k with k ≤ 65536 and row writes never grow memory, so views stay valid
 * until the next scan.
 */
export class ResidentColumns {
  private count_: number;
  private nnz_ = 0;
  private readonly x: RetrievalExports;
  private readonly arena: Arena;
  private readonly colsPtr: number;
  private readonly queryPtr: number;
  private readonly idxPtr: number;
  private readonly valPtr: number;
  private readonly scoresPtr: number;

  private constructor(
    instance: KernelInstance,
    readonly capacity: number,
    readonly dim: number,
  ) {
    this.x = retrievalExports(instance);
    this.arena = instance.arena;
    this.colsPtr = this.arena.alloc(capacity * dim * 4);
    this.queryPtr = this.arena.alloc(dim * 4);
    this.idxPtr = this.arena.alloc(dim * 4);
    this.valPtr = this.arena.alloc(dim * 4);
    this.scoresPtr = this.arena.alloc(capacity * 4);
    this.count_ = capacity;
    reserveScratchHeadroom(this.arena);
  }

  /** A dedicated instance of `module` (the kernels module) holding capacity × dim zeros, column-major. */
  static create(module: WebAssembly.Module, capacity: number, dim: number): ResidentColumns {
    checkStoreShape("ResidentColumns", capacity, dim);
    return new ResidentColumns(instantiateKernels(module), capacity, dim);
  }

  /** Rows the scans cover (the first `count` of `capacity`). */
  get count(): number {
    return this.count_;
  }
  set count(n: number) {
    this.count_ = checkedCount("ResidentColumns", n, this.capacity);
  }

  /** Bytes of WASM memory this store reserves: columns, scores, query buffers and the scratch headroom. */
  get bytes(): number {
    return this.capacity * (this.dim + 1) * 4 + 3 * this.dim * 4 + SCRATCH_HEADROOM;
  }

  /** Nonzero dims of the last scan's query (how many columns it read). */
  get lastNonzeroDims(): number {
    return this.nnz_;
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity) throw new RangeError(`ResidentColumns: row ${i} outside [0, ${this.capacity})`);
  }

  /** Column j (all capacity rows), a view into WASM memory. */
  column(j: number): Float32Array {
    if (!Number.isInteger(j) || j < 0 || j >= this.dim) throw new RangeError(`ResidentColumns: column ${j} outside [0, ${this.dim})`);
    return this.arena.f32(this.colsPtr + j * this.capacity * 4, this.capacity);
  }

  /** Copies vec (length dim) into row i, strided across the columns (in WASM). */
  writeRow(i: number, vec: Float32Array): void {
    this.checkRow(i);
    checkQuery("writeRow", vec, this.dim);
    this.arena.f32(this.queryPtr, this.dim).set(vec);
    this.x.rowsToColumnsF32(this.queryPtr, 1, this.dim, this.colsPtr + i * 4, this.capacity);
  }

  /** A copy of row i, gathered from the columns. */
  readRow(i: number): Float32Array {
    this.checkRow(i);
    const all = this.arena.f32(this.colsPtr, this.capacity * this.dim);
    const out = new Float32Array(this.dim);
    for (let j = 0, o = i; j < this.dim; j++, o += this.capacity) out[j] = all[o]!;
    return out;
  }

  /** Copies the first n rows of `source` (same dim) into rows [0, n): column by column from another ResidentColumns (growth), else row by row. */
  copyRowsFrom(source: { readonly dim: number; readRow(i: number): Float32Array }, n: number): void {
    checkRowCopy("ResidentColumns", source.dim, this.dim, n, this.capacity);
    if (source instanceof ResidentColumns) {
      if (n > source.capacity) throw new RangeError(`ResidentColumns: source holds ${source.capacity} rows, asked to copy ${n}`);
      for (let j = 0; j < this.dim; j++) this.column(j).set(source.column(j).subarray(0, n));
    } else {
      for (let i = 0; i < n; i++) this.writeRow(i, source.readRow(i));
    }
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
    this.x.columnScoresF32(this.colsPtr, this.capacity, this.count_, this.idxPtr, this.valPtr, this.nnz_, this.scoresPtr);
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
}
