// ResidentRows: a row-major matrix kept inside WASM memory (see
// retrieval.ts for the two ways into the retrieval kernels).
import type { KMeansOptions, KMeansResult, TopK } from "../kernels";
import { instantiateKernels, type KernelInstance } from "../instance";
import type { Arena } from "../arena";
import { checkFinite, checkQuery, rowCount } from "../retrieval-checks";
import { checkedCount, checkStoreShape, kmeansAt, reserveScratchHeadroom, retrievalExports, topKAt, topKOfAt, type Fn, type RetrievalExports } from "./retrieval-steps";

/** Result of one Lloyd iteration on resident rows. */
export interface LloydStep {
  /** Labels that changed in the assignment step. */
  changed: number;
  /** Σ‖new − old‖² of the centroids (the quantity compared with tol). */
  shift: number;
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
 * 256 KiB of scratch headroom are allocated up front, so scans and top-k with
 * k ≤ 16384 never grow it; kmeans, dotScoresBatch and lloydIteration may
 * (take views again after those).
 */
export class ResidentRows {
  private count_: number;
  private capacity_: number;
  private readonly x: RetrievalExports;
  private readonly arena: Arena;
  private readonly queryPtr: number;
  /** The rows, then the scores: last in the arena, so growth extends them in place. */
  private readonly rowsPtr: number;
  private scoresPtr = 0;

  private constructor(
    private readonly instance: KernelInstance,
    capacity: number,
    readonly dim: number,
  ) {
    this.x = retrievalExports(instance);
    this.arena = instance.arena;
    this.queryPtr = this.arena.alloc(dim * 4);
    this.rowsPtr = this.arena.mark();
    this.capacity_ = capacity;
    this.count_ = capacity;
    this.layout(capacity);
  }

  /** A dedicated instance of `module` (the kernels module: static import in workerd, loadWasmModule() in Node) holding capacity × dim rows (zeroed). */
  static create(module: WebAssembly.Module, capacity: number, dim: number): ResidentRows {
    checkStoreShape("ResidentRows", capacity, dim);
    return new ResidentRows(instantiateKernels(module), capacity, dim);
  }

  /** Places rows and scores from rowsPtr, with the scratch headroom after them. */
  private layout(capacity: number): void {
    this.arena.reset(this.rowsPtr);
    this.arena.alloc(capacity * this.dim * 4);
    this.scoresPtr = this.arena.alloc(capacity * 4);
    reserveScratchHeadroom(this.arena);
  }

  /** Rows the store holds. */
  get capacity(): number {
    return this.capacity_;
  }

  /** Rows the scans cover (the first `count` of `capacity`). */
  get count(): number {
    return this.count_;
  }
  set count(n: number) {
    this.count_ = checkedCount("ResidentRows", n, this.capacity_);
  }

  /** The whole capacity × dim matrix, a view into WASM memory: write rows straight into it. */
  rows(): Float32Array {
    return this.arena.f32(this.rowsPtr, this.capacity_ * this.dim);
  }

  /** Row i as a view into WASM memory. */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity_) throw new RangeError(`ResidentRows: row ${i} outside [0, ${this.capacity})`);
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

  /**
   * Widens the store to `capacity` rows in its own memory (`memory.grow`;
   * the rows stay where they are, the new ones are zero). Rows and count are
   * kept; earlier views and the last scan's scores are invalid afterwards.
   */
  grow(capacity: number): void {
    checkStoreShape("ResidentRows", capacity, this.dim);
    const old = this.capacity_;
    if (capacity < old) throw new RangeError(`ResidentRows: cannot shrink from ${old} to ${capacity} rows`);
    if (capacity === old) return;
    this.layout(capacity);
    this.arena.f32(this.rowsPtr, capacity * this.dim).fill(0, old * this.dim);
    this.capacity_ = capacity;
  }

  /** Removes rows [0, r): rows [r, count) move to [0, count − r), count drops by r; capacity is kept. */
  dropFirst(r: number): void {
    if (!Number.isInteger(r) || r < 0 || r > this.count_) throw new RangeError(`ResidentRows: cannot drop ${r} of ${this.count_} rows`);
    if (r === 0) return;
    const rows = this.rows();
    rows.copyWithin(0, r * this.dim, this.count_ * this.dim);
    rows.fill(0, (this.count_ - r) * this.dim, this.count_ * this.dim);
    this.count_ -= r;
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

  /** Top-k of the last scan's scores at rows[0..n) (row numbers below count), as positions into `rows` (ties → earlier position, NaN last). */
  topKOf(rows: Int32Array, n: number, k: number): TopK {
    return this.arena.scoped(() => topKOfAt(this.x, this.arena, this.scoresPtr, this.count_, rows, n, k));
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
