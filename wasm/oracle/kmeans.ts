// Oracle for k-means (wasm/assembly/kmeans.ts, whose header gives the
// algorithm): the same steps, written plainly. Distances are f64 here and f32
// lanes in WASM, so near-ties can resolve differently; column sums (blocked:
// f32 runs of SUM_BLOCK points per cluster, run totals added in f64), means,
// variances and the PRNG are the same arithmetic, and centroids are stored
// as f32 in both, so on data without near-ties the runs agree label for label.
import type { Kernels } from "../src/kernels";
import { checkFinite, resolveKMeansOptions, rowCount } from "../src/retrieval-checks";
import { mulberry32 } from "../../protocol/mulberry32";


function dist2(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[aOff + j]! - b[bOff + j]!;
    s += d * d;
  }
  return s;
}

function kmeansPlusPlus(data: Float32Array, n: number, dim: number, k: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const cent = new Float32Array(k * dim);
  let pick = Math.min(Math.floor(random() * n), n - 1);
  cent.set(data.subarray(pick * dim, (pick + 1) * dim), 0);
  const minD = new Float64Array(n);
  for (let i = 0; i < n; i++) minD[i] = dist2(data, i * dim, cent, 0, dim);
  for (let c = 1; c < k; c++) {
    const total = minD.reduce((a, b) => a + b, 0);
    const r = random();
    if (total > 0) {
      const target = r * total;
      let cum = 0;
      pick = -1;
      let lastPositive = 0;
      for (let i = 0; i < n; i++) {
        if (minD[i]! > 0) lastPositive = i;
        cum += minD[i]!;
        if (cum > target) {
          pick = i;
          break;
        }
      }
      if (pick < 0) pick = lastPositive;
    } else {
      pick = Math.min(Math.floor(r * n), n - 1);
    }
    cent.set(data.subarray(pick * dim, (pick + 1) * dim), c * dim);
    for (let i = 0; i < n; i++) minD[i] = Math.min(minD[i]!, dist2(data, i * dim, cent, c * dim, dim));
  }
  return cent;
}

/** Nearest centroid per point (ties → lower index); returns how many labels changed. */
export function assign(data: Float32Array, n: number, dim: number, cent: Float32Array, k: number, labels: Int32Array, dists: Float64Array): number {
  let changed = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let bestC = 0;
    for (let c = 0; c < k; c++) {
      const d = dist2(data, i * dim, cent, c * dim, dim);
      if (d < best) {
        best = d;
        bestC = c;
      }
    }
    if (labels[i] !== bestC) changed++;
    labels[i] = bestC;
    dists[i] = best;
  }
  return changed;
}

/** Points of one cluster summed in f32 before that run is added to the f64 sums (as in wasm/assembly/kmeans.ts). */
export const SUM_BLOCK = 32;

/**
 * Column sums per cluster, blocked as in WASM: each cluster's points, in
 * point order, are summed in f32 (Math.fround after every add) in runs of
 * SUM_BLOCK points; each run's total is added to the f64 sum when the run
 * is full and after the last point. Also returns the counts.
 */
export function blockedColumnSums(data: Float32Array, n: number, dim: number, labels: Int32Array, k: number): { sums: Float64Array; counts: Int32Array } {
  const sums = new Float64Array(k * dim);
  const runs = new Float32Array(k * dim); // a Float32Array store rounds like Math.fround
  const pending = new Int32Array(k);
  const counts = new Int32Array(k);
  const flush = (c: number): void => {
    for (let j = 0; j < dim; j++) {
      sums[c * dim + j] += runs[c * dim + j]!;
      runs[c * dim + j] = 0;
    }
    pending[c] = 0;
  };
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    counts[c]++;
    for (let j = 0; j < dim; j++) runs[c * dim + j] = Math.fround(runs[c * dim + j]! + data[i * dim + j]!);
    if (++pending[c]! === SUM_BLOCK) flush(c);
  }
  for (let c = 0; c < k; c++) if (pending[c]! > 0) flush(c);
  return { sums, counts };
}

/** Centroids ← means of their points (empty clusters keep theirs); returns the squared shift. */
export function update(data: Float32Array, n: number, dim: number, labels: Int32Array, k: number, cent: Float32Array): number {
  const { sums, counts } = blockedColumnSums(data, n, dim, labels, k);
  let shift = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    for (let j = 0; j < dim; j++) {
      const m = Math.fround(sums[c * dim + j]! / counts[c]!);
      shift += (m - cent[c * dim + j]!) ** 2;
      cent[c * dim + j] = m;
    }
  }
  return shift;
}

export function meanColumnVariance(data: Float32Array, n: number, dim: number): number {
  if (n === 0) return 0;
  let total = 0;
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * dim + j]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * dim + j]! - mean) ** 2;
    total += v / n;
  }
  return total / dim;
}

export const kmeans: Kernels["kmeans"] = (data, dim, options) => {
  const n = rowCount("kmeans", data, dim);
  checkFinite("kmeans: data", data);
  const { k, seed, maxIter, tol, nInit } = resolveKMeansOptions(options, n);
  if (n === 0) return { labels: new Int32Array(0), centroids: new Float32Array(0), inertia: 0, iterations: 0 };
  const tolAbs = tol * meanColumnVariance(data, n, dim);
  let best: { labels: Int32Array; centroids: Float32Array; inertia: number; iterations: number } | undefined;
  for (let r = 0; r < nInit; r++) {
    const cent = kmeansPlusPlus(data, n, dim, k, (seed + r) >>> 0);
    const labels = new Int32Array(n).fill(-1);
    const dists = new Float64Array(n);
    let iterations = 0;
    for (let it = 0; it < maxIter; it++) {
      const changed = assign(data, n, dim, cent, k, labels, dists);
      if (it > 0 && changed === 0) break;
      const shift = update(data, n, dim, labels, k, cent);
      iterations = it + 1;
      if (shift <= tolAbs) break;
    }
    assign(data, n, dim, cent, k, labels, dists);
    const inertia = dists.reduce((a, b) => a + b, 0);
    if (!best || inertia < best.inertia) best = { labels, centroids: cent, inertia, iterations };
  }
  return best!;
};
