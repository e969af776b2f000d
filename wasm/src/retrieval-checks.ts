// Input checks shared by the retrieval kernels' WASM bindings and their
// oracles, so both reject the same inputs with the same messages.
import type { KMeansOptions } from "./kernels";
import { checkDim, DEFAULT_EMBED_DIM } from "./text-features";

/** Number of rows of a row-major matrix; throws unless dim is a positive integer dividing rows.length. */
export function rowCount(what: string, rows: Float32Array, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${what}: dim must be a positive integer, got ${dim}`);
  if (rows.length % dim !== 0) throw new RangeError(`${what}: length ${rows.length} is not a multiple of dim ${dim}`);
  return rows.length / dim;
}

/**
 * Number of columns of a column-major matrix (stride floats per column, the
 * first n used) after checking that every index names one of them; throws on
 * a bad shape, index or length mismatch.
 */
export function checkColumnScan(what: string, columns: Float32Array, stride: number, n: number, indices: Int32Array, values: Float32Array): number {
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${what}: stride must be a positive integer, got ${stride}`);
  if (columns.length % stride !== 0) throw new RangeError(`${what}: length ${columns.length} is not a multiple of stride ${stride}`);
  if (!Number.isInteger(n) || n < 0 || n > stride) throw new RangeError(`${what}: n must be an integer in [0, ${stride}], got ${n}`);
  if (indices.length !== values.length) throw new RangeError(`${what}: ${indices.length} indices but ${values.length} values`);
  const columnsCount = columns.length / stride;
  for (let k = 0; k < indices.length; k++) {
    const j = indices[k]!;
    if (j < 0 || j >= columnsCount) throw new RangeError(`${what}: index ${j} at position ${k} outside [0, ${columnsCount})`);
  }
  return columnsCount;
}

export function checkQuery(what: string, query: Float32Array, dim: number): void {
  if (query.length !== dim) throw new RangeError(`${what}: query has length ${query.length}, expected dim ${dim}`);
}

/** k clipped to [0, n]; throws unless k is a non-negative integer. */
export function clipTopK(k: number, n: number): number {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topK: k must be a non-negative integer, got ${k}`);
  return Math.min(k, n);
}

export interface ResolvedKMeansOptions {
  k: number;
  seed: number;
  maxIter: number;
  tol: number;
  nInit: number;
}

/** Defaults filled in (maxIter 300, tol 1e-4, nInit 4), k clipped to n, seed as u32. */
export function resolveKMeansOptions(options: KMeansOptions, n: number): ResolvedKMeansOptions {
  const { k, seed, maxIter = 300, tol = 1e-4, nInit = 4 } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`kmeans: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(seed)) throw new RangeError(`kmeans: seed must be an integer, got ${seed}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new RangeError(`kmeans: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new RangeError(`kmeans: tol must be a finite number ≥ 0, got ${tol}`);
  if (!Number.isInteger(nInit) || nInit < 1) throw new RangeError(`kmeans: nInit must be a positive integer, got ${nInit}`);
  return { k: Math.min(k, n), seed: seed >>> 0, maxIter, tol, nInit };
}

/** k-means needs finite data: NaN or ±Inf would poison every distance and mean. */
export function checkFinite(what: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new RangeError(`${what}: value ${data[i]} at index ${i} is not finite`);
  }
}

/** Resolved embedding dim; idf (when given) must have length dim and finite values. */
export function resolveEmbedDim(dim: number | undefined, idf: Float32Array | undefined): number {
  const d = dim ?? idf?.length ?? DEFAULT_EMBED_DIM;
  checkDim(d);
  if (idf) {
    if (idf.length !== d) throw new RangeError(`embedText: idf has length ${idf.length}, expected dim ${d}`);
    checkFinite("embedText: idf", idf);
  }
  return d;
}
