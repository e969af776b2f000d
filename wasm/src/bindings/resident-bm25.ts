// ResidentBm25: a lexical index's document lengths and one query's scores,
// kept in a dedicated WASM instance (a Bm25Scorer, wasm/src/kernels.ts).
//
// A turn scores twice (the feedback pass adds to the first,
// durable-objects/selection/turn-ranking.ts) and reads top-k pages of the
// result. Through the copying binding each of those steps moved 4 bytes per
// document into or out of WASM memory: at 100k messages nine copies of
// 400 KB a turn. Here the lengths are copied once, as documents arrive, and
// the scores never leave.
//
// Layout: [lengths: capacity × u32][scores: capacity × f32][scratch], from
// the instance's heap base; growing re-lays both regions (memory.grow keeps
// the lengths where they are). Views of the scores stay valid until the next
// score, zero or growth: top-k scratch for k ≤ MAX_SCORER_TOP_K is reserved
// up front, so a top-k never grows the memory.
import { instantiateKernels, type KernelInstance } from "../instance";
import type { Arena } from "../arena";
import { MAX_SCORER_TOP_K, type Bm25Query, type Bm25Scorer, type RankedEntry, type TopK } from "../kernels";
import { badPosting, checkBm25Query, checkScorerAdd, checkScorerDocuments, checkScorerTopK } from "../bm25-checks";
import { retrievalExports, topKAt, type Fn, type RetrievalExports } from "./retrieval-steps";

/** Bytes a top-k of MAX_SCORER_TOP_K takes in scratch (two arrays of 2k four-byte slots). */
const TOP_K_SCRATCH = MAX_SCORER_TOP_K * 16;
/** Regions this long and longer grow by a quarter, not double (as the lexical index's arrays do). */
const LINEAR_GROWTH_FROM = 1 << 18;

export class ResidentBm25 implements Bm25Scorer {
  private readonly x: RetrievalExports;
  private readonly kernel: Fn;
  private readonly arena: Arena;
  private readonly base: number;
  private capacity = 0;
  private lengthsPtr = 0;
  private scoresPtr = 0;
  /** Lengths copied so far (documents 0 … synced − 1). */
  private synced = 0;
  /** Documents the last scores cover; −1 when there are none (cleared, or a pass failed half-way). */
  private count = -1;

  private constructor(instance: KernelInstance) {
    this.x = retrievalExports(instance);
    const kernel = instance.exports.bm25ScoresF32;
    if (typeof kernel !== "function") throw new Error("kernels module has no export bm25ScoresF32; rebuild with npm run build");
    this.kernel = kernel;
    this.arena = instance.arena;
    this.base = this.arena.mark();
    this.layout(1024);
  }

  /** A scorer in its own instance of `module` (the kernels module: static import in workerd, loadWasmModule() in Node). */
  static create(module: WebAssembly.Module): ResidentBm25 {
    return new ResidentBm25(instantiateKernels(module));
  }

  get bytes(): number {
    return this.arena.bytes;
  }

  bytesFor(n: number): number {
    const end = this.base + 8 * grownCapacity(this.capacity, n) + TOP_K_SCRATCH;
    return Math.max(this.arena.bytes, Math.ceil(end / 65536) * 65536);
  }

  score(q: Bm25Query, add = false): Float32Array {
    checkBm25Query(q);
    const n = q.lengths.length;
    if (add) checkScorerAdd(n, this.count);
    if (n < this.synced) throw new RangeError(`bm25 scorer: ${n} documents, fewer than the ${this.synced} it holds lengths of (a new index must clear it)`);
    this.room(n);
    // Only the new documents' lengths: an index's earlier ones never change.
    this.arena.u32(this.lengthsPtr, n).set(q.lengths.subarray(this.synced, n), this.synced);
    this.synced = n;
    this.count = -1;
    this.arena.scoped(() => {
      const posts = this.arena.put(q.posts);
      const starts = this.arena.put(q.starts);
      const idf = this.arena.put(q.idf);
      const bad = this.kernel(posts, starts, idf, q.idf.length, this.lengthsPtr, n, q.avgDocLength, q.k1, q.b, this.scoresPtr, add ? 1 : 0);
      // A malformed posting leaves the scores half-written: they are dropped (count stays −1).
      if (bad >= 0) throw badPosting(q, bad);
    });
    this.count = n;
    return this.arena.f32(this.scoresPtr, n);
  }

  zero(n: number): Float32Array {
    checkScorerDocuments(n);
    this.room(n);
    this.count = n;
    return this.arena.f32(this.scoresPtr, n).fill(0);
  }

  topK(k: number, after?: RankedEntry): TopK {
    checkScorerTopK(this.count, k, MAX_SCORER_TOP_K);
    return this.arena.scoped(() => topKAt(this.x, this.arena, this.scoresPtr, this.count, k, after));
  }

  clear(): void {
    this.synced = 0;
    this.count = -1;
  }

  /** Capacity for n documents: the regions re-laid when it grows (the lengths stay, the scores are dropped). */
  private room(n: number): void {
    if (n <= this.capacity) return;
    this.layout(grownCapacity(this.capacity, n));
    this.count = -1;
  }

  private layout(capacity: number): void {
    this.arena.reset(this.base);
    this.lengthsPtr = this.arena.alloc(capacity * 4);
    this.scoresPtr = this.arena.alloc(capacity * 4);
    const mark = this.arena.mark();
    this.arena.alloc(TOP_K_SCRATCH);
    this.arena.reset(mark);
    this.capacity = capacity;
  }
}

/** `capacity` grown (doubling, then by quarters from LINEAR_GROWTH_FROM) until it holds n. */
function grownCapacity(capacity: number, n: number): number {
  let c = Math.max(capacity, 1024);
  while (c < n) c = c < LINEAR_GROWTH_FROM ? c * 2 : c + (c >> 2);
  return c;
}
