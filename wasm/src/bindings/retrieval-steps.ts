// The raw exports of the retrieval kernels and the pointer-level steps that
// both binding styles share: the copying `Kernels` contract (retrieval.ts)
// and the resident stores (ResidentRows in resident-rows.ts,
// ResidentColumns in retrieval.ts), plus the shape checks and scratch
// reservation of those stores.
import type { KMeansOptions, KMeansResult, RankedEntry, TopK } from "../kernels";
import type { KernelInstance } from "../instance";
import type { Arena } from "../arena";
import { clipTopK, resolveKMeansOptions } from "../retrieval-checks";

export type Fn = (...args: number[]) => number;

/** The raw exports this file calls, named so a missing export fails loudly at bind time. */
export function retrievalExports(instance: KernelInstance) {
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
    topKAfterF32: fn("topKAfterF32"),
    kmeansF32: fn("kmeansF32"),
    kmeansScratchBytes: fn("kmeansScratchBytes"),
    kmeansWorkBytes: fn("kmeansWorkBytes"),
    kmeansAssignF32: fn("kmeansAssignF32"),
    kmeansCentroidsF32: fn("kmeansCentroidsF32"),
    embedTokensF32: fn("embedTokensF32"),
    embedScratchBytes: fn("embedScratchBytes"),
  };
}
export type RetrievalExports = ReturnType<typeof retrievalExports>;

// ---- pointer-level steps shared by both APIs ---------------------------------

/** Top-k (or, with `after`, its next page) of the n scores at scoresPtr. Call inside arena.scoped. */
export function topKAt(x: RetrievalExports, arena: Arena, scoresPtr: number, n: number, k: number, after?: RankedEntry): TopK {
  const kk = clipTopK(k, n);
  // 2k slots each: the kernel's candidate buffer (wasm/assembly/topk.ts); the first kk are the answer.
  const idxPtr = arena.alloc(kk * 8);
  const outPtr = arena.alloc(kk * 8);
  let found = kk;
  if (after) {
    checkRankedEntry(after);
    found = x.topKAfterF32(scoresPtr, n, kk, after.score, after.index, idxPtr, outPtr);
  } else x.topKF32(scoresPtr, n, kk, idxPtr, outPtr);
  return { indices: arena.i32(idxPtr, found).slice(), scores: arena.f32(outPtr, found).slice() };
}

function checkRankedEntry(after: RankedEntry): void {
  if (!Number.isInteger(after.index)) throw new RangeError(`topK: after.index must be an integer, got ${after.index}`);
}

/**
 * Top-k over the scores at `rows` (row numbers below `count`) of a scan left
 * at scoresPtr: they are gathered into scratch, in the order given, and the
 * top-k kernel runs there, so indices are positions into `rows` (ties → the
 * earlier position, NaN last). Call inside arena.scoped.
 */
export function topKOfAt(x: RetrievalExports, arena: Arena, scoresPtr: number, count: number, rows: Int32Array, n: number, k: number): TopK {
  if (!Number.isInteger(n) || n < 0 || n > rows.length) throw new RangeError(`topKOf: n must be an integer in [0, ${rows.length}], got ${n}`);
  const gathered = arena.alloc(n * 4);
  const scores = arena.f32(scoresPtr, count);
  const out = arena.f32(gathered, n);
  for (let p = 0; p < n; p++) {
    const i = rows[p]!;
    if (!(i >= 0 && i < count)) throw new RangeError(`topKOf: row ${i} outside [0, ${count})`);
    out[p] = scores[i]!;
  }
  return topKAt(x, arena, gathered, n, k);
}

export function kmeansAt(x: RetrievalExports, arena: Arena, dataPtr: number, n: number, dim: number, options: KMeansOptions): KMeansResult {
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

// ---- resident stores ---------------------------------------------------------

/**
 * Scratch each resident store reserves after its rows: a top-k (two arrays
 * of 2k 4-byte slots, the kernel's candidate buffer) beside the gathered
 * scores of topKOf fits without growing memory for k ≤ 13k over the segment
 * index's window of 12288 rows. A turn asks at most MAX_RANK_LIMIT (4096),
 * so more than 256 KiB was memory held for nothing (docs/memory.md).
 */
export const SCRATCH_HEADROOM = 1 << 18;

/** What ResidentRows and ResidentColumns check when created. */
export function checkStoreShape(store: string, capacity: number, dim: number): void {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`${store}: capacity must be a non-negative integer, got ${capacity}`);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${store}: dim must be a positive integer, got ${dim}`);
}

/** A valid number of rows for a scan to cover. */
export function checkedCount(store: string, n: number, capacity: number): number {
  if (!Number.isInteger(n) || n < 0 || n > capacity) throw new RangeError(`${store}: count must be an integer in [0, ${capacity}], got ${n}`);
  return n;
}

/** Grows a resident store's memory once, so small scoped scratch later never detaches its views. */
export function reserveScratchHeadroom(arena: Arena): void {
  const mark = arena.mark();
  arena.alloc(SCRATCH_HEADROOM);
  arena.reset(mark);
}
