// k-means for EpiCache episodes (DESIGN.md, EpiCache step 3; arXiv 2509.17396 §3
// clusters conversation segments with k-means). sklearn semantics where they
// matter: k-means++ seeding, Lloyd until the labels stop changing or the
// centroids move less than tol (squared shift, relative to the mean column
// variance), nInit restarts keeping the lowest inertia, centroids are raw
// means. Differences from sklearn, chosen for a small deterministic kernel:
//   - seeding draws one candidate per centroid (no greedy local trials);
//   - an empty cluster keeps its previous centroid (sklearn moves it to a far
//     point); it stays empty unless points move to it;
//   - the PRNG is mulberry32, implemented identically in the TS oracle
//     (wasm/oracle/kmeans.ts), so a seed gives the same run in both.
//
// Arithmetic: assignment scores ‖c‖² − 2x·c and the winner's squared
// distance in f32 SIMD lanes (see "assignment" below); column sums (accumulated
// in the assignment pass, while each point is in L1), means, variances,
// shifts and inertia in f64 (sums in point-index order, so the oracle's f64
// sums are the same numbers); centroids stored as f32.
//
// Scratch (bytes from kmeansScratchBytes), carved in this order:
//   labels i32[n] · dists f32[n] · minD f32[n] · cent f32[k·dim] ·
//   sums f64[k·dim] · counts i32[k]   (each 16-byte aligned)

@inline
function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

/** Bytes of scratch kmeansF32 needs for n points of dim values and k clusters. */
export function kmeansScratchBytes(n: i32, dim: i32, k: i32): usize {
  const nb = align16(<usize>n << 2);
  const kd = <usize>k * <usize>dim;
  return 3 * nb + align16(kd << 2) + align16(kd << 3) + align16(<usize>k << 2);
}

// ---- deterministic PRNG (mulberry32), mirrored in the oracle ----------------

let rngState: u32 = 0;

function rngSeed(seed: u32): void {
  rngState = seed;
}

/** Uniform in [0, 1): a u32 divided by 2^32 (exact in f64). */
function rngNext(): f64 {
  rngState += 0x6d2b79f5;
  let t = rngState;
  t = (t ^ (t >>> 15)) * (t | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return <f64>(t ^ (t >>> 14)) / 4294967296.0;
}

// ---- distances ---------------------------------------------------------------

/** Squared Euclidean distance of two dim-vectors (f32 lanes, then the tail). */
@inline
function dist2(a: usize, b: usize, dim: i32): f32 {
  const dim4 = dim & ~3;
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j < dim4; j += 4) {
    const off = <usize>j << 2;
    const d = f32x4.sub(v128.load(a + off), v128.load(b + off));
    acc = f32x4.add(acc, f32x4.mul(d, d));
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < dim; j++) {
    const off = <usize>j << 2;
    const d = load<f32>(a + off) - load<f32>(b + off);
    s += d * d;
  }
  return s;
}

@inline
function lanes(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

// ---- assignment ---------------------------------------------------------------
//
// The nearest centroid minimises ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², i.e. the score
// ‖c‖² − 2x·c (‖x‖² is the same for every c). A dot product costs a multiply
// and an add per value where the difference form costs a subtract, a
// multiply and an add (baseline WASM SIMD has no FMA; subtracts and adds
// share the FP add ports). Measured here (EPYC, Node 20, 2000 × 384, k = 8):
// the scoring loop 0.36 ms vs 0.47 ms for differences. The winner's
// distance is then computed exactly in the difference form, with
// independent accumulators (a single add chain made that one distance cost
// a third of the scoring), fused with the update's column sums; so dists
// and inertia have no cancellation error. Only near-ties (score gaps of a
// few f32 ulps of ‖c‖²) may pick another label than the oracle's exact f64
// comparison, as its header says.

// ‖c‖² per centroid for the call in progress; for k > MAX_K_NORMS centNorm recomputes it (same arithmetic).
const MAX_K_NORMS = 1024;
const centNorms: usize = memory.data(MAX_K_NORMS * 4, 16);

/** x·c over the first dim4 values, one f32x4 accumulator (the lane order every path shares), then the scalar tail. */
@inline
function dotLanes(x: usize, c: usize, dim4: i32, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let j = 0; j < dim4; j += 4) {
    const off = <usize>j << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + off), v128.load(c + off)));
  }
  return lanes(acc) + dotTail(x, c, dim4, dim);
}

/** Scalar x·c over dim4..dim. */
@inline
function dotTail(x: usize, c: usize, dim4: i32, dim: i32): f32 {
  let s: f32 = 0;
  for (let j = dim4; j < dim; j++) s += load<f32>(x + (<usize>j << 2)) * load<f32>(c + (<usize>j << 2));
  return s;
}

/** ‖c‖² of centroid c: from the table when k fits it, else recomputed (same arithmetic). */
@inline
function centNorm(centPtr: usize, c: i32, k: i32, dim: i32): f32 {
  if (k <= MAX_K_NORMS) return load<f32>(centNorms + (<usize>c << 2));
  const cp = centPtr + <usize>c * (<usize>dim << 2);
  return dotLanes(cp, cp, dim & ~3, dim);
}

/** Nearest centroid of one point by score (ties → lower index). */
function nearest1(x: usize, centPtr: usize, k: i32, dim: i32): i32 {
  const rowBytes = <usize>dim << 2;
  const dim4 = dim & ~3;
  let best: f32 = Infinity;
  let bestC = 0;
  for (let c = 0; c < k; c++) {
    const s = centNorm(centPtr, c, k, dim) - 2 * dotLanes(x, centPtr + <usize>c * rowBytes, dim4, dim);
    if (s < best) { best = s; bestC = c; }
  }
  return bestC;
}

/**
 * Assignment step: labels[i] = the nearest centroid (ties → lower index),
 * dists[i] = its squared distance; returns how many labels changed.
 * Two points × four centroids per pass: each centroid load serves two
 * points and each point load four centroids, eight independent dot
 * accumulators (each in the lane order of dotLanes, so a point's label does
 * not depend on which path handled it).
 *
 * When sumsPtr ≠ 0 the step also accumulates the update's column sums
 * (f64[k·dim], point order) and counts (i32[k]) while the point is in L1,
 * so a Lloyd iteration reads the data once; kmeansCentroidsF32 finishes it.
 */
export function kmeansAssignF32(
  dataPtr: usize, n: i32, dim: i32, centPtr: usize, k: i32, labelsPtr: usize, distsPtr: usize,
  sumsPtr: usize, countsPtr: usize,
): i32 {
  const rowBytes = <usize>dim << 2;
  const sumBytes = <usize>dim << 3;
  const dim4 = dim & ~3;
  const k4 = k & ~3;
  if (sumsPtr != 0) {
    memory.fill(sumsPtr, 0, <usize>k * sumBytes);
    memory.fill(countsPtr, 0, <usize>k << 2);
  }
  if (k <= MAX_K_NORMS) {
    for (let c = 0; c < k; c++) {
      const cp = centPtr + <usize>c * rowBytes;
      store<f32>(centNorms + (<usize>c << 2), dotLanes(cp, cp, dim4, dim));
    }
  }
  let changed = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const x = dataPtr + <usize>i * rowBytes;
    const y = x + rowBytes;
    let bx: f32 = Infinity;
    let by: f32 = Infinity;
    let cx = 0;
    let cy = 0;
    let c = 0;
    for (; c < k4; c += 4) {
      const c0 = centPtr + <usize>c * rowBytes;
      const c1 = c0 + rowBytes;
      const c2 = c1 + rowBytes;
      const c3 = c2 + rowBytes;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      for (let j = 0; j < dim4; j += 4) {
        const off = <usize>j << 2;
        const xv = v128.load(x + off);
        const yv = v128.load(y + off);
        let cv = v128.load(c0 + off);
        a0 = f32x4.add(a0, f32x4.mul(xv, cv));
        b0 = f32x4.add(b0, f32x4.mul(yv, cv));
        cv = v128.load(c1 + off);
        a1 = f32x4.add(a1, f32x4.mul(xv, cv));
        b1 = f32x4.add(b1, f32x4.mul(yv, cv));
        cv = v128.load(c2 + off);
        a2 = f32x4.add(a2, f32x4.mul(xv, cv));
        b2 = f32x4.add(b2, f32x4.mul(yv, cv));
        cv = v128.load(c3 + off);
        a3 = f32x4.add(a3, f32x4.mul(xv, cv));
        b3 = f32x4.add(b3, f32x4.mul(yv, cv));
      }
      const n0 = centNorm(centPtr, c, k, dim);
      const n1 = centNorm(centPtr, c + 1, k, dim);
      const n2 = centNorm(centPtr, c + 2, k, dim);
      const n3 = centNorm(centPtr, c + 3, k, dim);
      const s0 = n0 - 2 * (lanes(a0) + dotTail(x, c0, dim4, dim));
      const s1 = n1 - 2 * (lanes(a1) + dotTail(x, c1, dim4, dim));
      const s2 = n2 - 2 * (lanes(a2) + dotTail(x, c2, dim4, dim));
      const s3 = n3 - 2 * (lanes(a3) + dotTail(x, c3, dim4, dim));
      const t0 = n0 - 2 * (lanes(b0) + dotTail(y, c0, dim4, dim));
      const t1 = n1 - 2 * (lanes(b1) + dotTail(y, c1, dim4, dim));
      const t2 = n2 - 2 * (lanes(b2) + dotTail(y, c2, dim4, dim));
      const t3 = n3 - 2 * (lanes(b3) + dotTail(y, c3, dim4, dim));
      if (s0 < bx) { bx = s0; cx = c; }
      if (s1 < bx) { bx = s1; cx = c + 1; }
      if (s2 < bx) { bx = s2; cx = c + 2; }
      if (s3 < bx) { bx = s3; cx = c + 3; }
      if (t0 < by) { by = t0; cy = c; }
      if (t1 < by) { by = t1; cy = c + 1; }
      if (t2 < by) { by = t2; cy = c + 2; }
      if (t3 < by) { by = t3; cy = c + 3; }
    }
    for (; c < k; c++) {
      const cp = centPtr + <usize>c * rowBytes;
      const nc = centNorm(centPtr, c, k, dim);
      const s = nc - 2 * dotLanes(x, cp, dim4, dim);
      if (s < bx) { bx = s; cx = c; }
      const t = nc - 2 * dotLanes(y, cp, dim4, dim);
      if (t < by) { by = t; cy = c; }
    }
    changed += settle(i, x, cx, centPtr, dim, dim4, labelsPtr, distsPtr, sumsPtr, countsPtr);
    changed += settle(i + 1, y, cy, centPtr, dim, dim4, labelsPtr, distsPtr, sumsPtr, countsPtr);
  }
  if (i < n) {
    const x = dataPtr + <usize>i * rowBytes;
    changed += settle(i, x, nearest1(x, centPtr, k, dim), centPtr, dim, dim4, labelsPtr, distsPtr, sumsPtr, countsPtr);
  }
  return changed;
}

/** Record point i's label and exact distance (and its share of the sums); 1 if the label changed. */
@inline
function settle(i: i32, x: usize, c: i32, centPtr: usize, dim: i32, dim4: i32, labelsPtr: usize, distsPtr: usize, sumsPtr: usize, countsPtr: usize): i32 {
  const lp = labelsPtr + (<usize>i << 2);
  const changed = load<i32>(lp) != c ? 1 : 0;
  store<i32>(lp, c);
  const cp = centPtr + <usize>c * (<usize>dim << 2);
  let d: f32;
  if (sumsPtr != 0) {
    d = addRowDist(sumsPtr + <usize>c * (<usize>dim << 3), x, cp, dim, dim4);
    const np = countsPtr + (<usize>c << 2);
    store<i32>(np, load<i32>(np) + 1);
  } else {
    d = distWide(x, cp, dim, dim4);
  }
  store<f32>(distsPtr + (<usize>i << 2), d);
  return changed;
}

/**
 * ‖x − c‖² with four accumulators (16 values per step: a single chain
 * would wait on the add latency), then 4 at a time, then the scalar tail.
 */
@inline
function distWide(x: usize, c: usize, dim: i32, dim4: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  for (; j + 16 <= dim4; j += 16) {
    const xp = x + (<usize>j << 2);
    const cq = c + (<usize>j << 2);
    let d = f32x4.sub(v128.load(xp), v128.load(cq));
    a0 = f32x4.add(a0, f32x4.mul(d, d));
    d = f32x4.sub(v128.load(xp, 16), v128.load(cq, 16));
    a1 = f32x4.add(a1, f32x4.mul(d, d));
    d = f32x4.sub(v128.load(xp, 32), v128.load(cq, 32));
    a2 = f32x4.add(a2, f32x4.mul(d, d));
    d = f32x4.sub(v128.load(xp, 48), v128.load(cq, 48));
    a3 = f32x4.add(a3, f32x4.mul(d, d));
  }
  for (; j < dim4; j += 4) {
    const d = f32x4.sub(v128.load(x + (<usize>j << 2)), v128.load(c + (<usize>j << 2)));
    a0 = f32x4.add(a0, f32x4.mul(d, d));
  }
  let s = lanes(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; j < dim; j++) {
    const d = load<f32>(x + (<usize>j << 2)) - load<f32>(c + (<usize>j << 2));
    s += d * d;
  }
  return s;
}

/**
 * sums[j] += x[j] in f64 (point order; exact same sums as the oracle) and,
 * in the same pass over the point, returns ‖x − c‖² (two accumulators).
 */
@inline
function addRowDist(s: usize, x: usize, c: usize, dim: i32, dim4: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= dim4; j += 8) {
    const xp = x + (<usize>j << 2);
    const cq = c + (<usize>j << 2);
    const sp = s + (<usize>j << 3);
    let d = f32x4.sub(v128.load(xp), v128.load(cq));
    a0 = f32x4.add(a0, f32x4.mul(d, d));
    d = f32x4.sub(v128.load(xp, 16), v128.load(cq, 16));
    a1 = f32x4.add(a1, f32x4.mul(d, d));
    // 8-byte loads feed cvtps2pd straight from memory (no shuffle)
    v128.store(sp, f64x2.add(v128.load(sp), f64x2.promote_low_f32x4(v128.load64_zero(xp))));
    v128.store(sp, f64x2.add(v128.load(sp, 16), f64x2.promote_low_f32x4(v128.load64_zero(xp, 8))), 16);
    v128.store(sp, f64x2.add(v128.load(sp, 32), f64x2.promote_low_f32x4(v128.load64_zero(xp, 16))), 32);
    v128.store(sp, f64x2.add(v128.load(sp, 48), f64x2.promote_low_f32x4(v128.load64_zero(xp, 24))), 48);
  }
  for (; j < dim4; j += 4) {
    const xp = x + (<usize>j << 2);
    const sp = s + (<usize>j << 3);
    const d = f32x4.sub(v128.load(xp), v128.load(c + (<usize>j << 2)));
    a0 = f32x4.add(a0, f32x4.mul(d, d));
    v128.store(sp, f64x2.add(v128.load(sp), f64x2.promote_low_f32x4(v128.load64_zero(xp))));
    v128.store(sp, f64x2.add(v128.load(sp, 16), f64x2.promote_low_f32x4(v128.load64_zero(xp, 8))), 16);
  }
  let dist = lanes(f32x4.add(a0, a1));
  for (; j < dim; j++) {
    const xj = load<f32>(x + (<usize>j << 2));
    const e = xj - load<f32>(c + (<usize>j << 2));
    dist += e * e;
    const sp = s + (<usize>j << 3);
    store<f64>(sp, load<f64>(sp) + <f64>xj);
  }
  return dist;
}

/**
 * Finish an update from the sums and counts kmeansAssignF32 accumulated:
 * centroids become the means (f64 division, stored as f32); an empty
 * cluster keeps its centroid. Returns the squared shift Σ‖new − old‖² (f64).
 */
export function kmeansCentroidsF32(sumsPtr: usize, countsPtr: usize, k: i32, dim: i32, centPtr: usize): f64 {
  const rowBytes = <usize>dim << 2;
  const sumBytes = <usize>dim << 3;
  let shift: f64 = 0;
  for (let c = 0; c < k; c++) {
    const count = load<i32>(countsPtr + (<usize>c << 2));
    if (count == 0) continue;
    const s = sumsPtr + <usize>c * sumBytes;
    const cent = centPtr + <usize>c * rowBytes;
    for (let j = 0; j < dim; j++) {
      const m = <f32>(load<f64>(s + (<usize>j << 3)) / <f64>count);
      const d = <f64>m - <f64>load<f32>(cent + (<usize>j << 2));
      shift += d * d;
      store<f32>(cent + (<usize>j << 2), m);
    }
  }
  return shift;
}

/**
 * k-means++ seeding (one candidate per centroid): the first centroid is a
 * uniform point; each next one is point i with probability minD[i] / Σ minD
 * (inverse CDF over point order, f64 cumulative sum). When every point
 * coincides with a chosen centroid (Σ minD = 0) a uniform point is taken.
 * Consumes exactly k PRNG draws.
 */
export function kmeansPlusPlusF32(dataPtr: usize, n: i32, dim: i32, k: i32, seed: u32, centPtr: usize, minDPtr: usize): void {
  if (k <= 0 || n <= 0) return;
  rngSeed(seed);
  const rowBytes = <usize>dim << 2;
  let pick = min(<i32>(rngNext() * <f64>n), n - 1);
  memory.copy(centPtr, dataPtr + <usize>pick * rowBytes, rowBytes);
  for (let i = 0; i < n; i++) {
    store<f32>(minDPtr + (<usize>i << 2), dist2(dataPtr + <usize>i * rowBytes, centPtr, dim));
  }
  for (let c = 1; c < k; c++) {
    let total: f64 = 0;
    for (let i = 0; i < n; i++) total += <f64>load<f32>(minDPtr + (<usize>i << 2));
    const r = rngNext();
    if (total > 0) {
      const target = r * total;
      let cum: f64 = 0;
      pick = -1;
      let lastPositive = 0;
      for (let i = 0; i < n; i++) {
        const d = <f64>load<f32>(minDPtr + (<usize>i << 2));
        if (d > 0) lastPositive = i;
        cum += d;
        if (cum > target) {
          pick = i;
          break;
        }
      }
      if (pick < 0) pick = lastPositive; // rounding left target ≥ the final sum
    } else {
      pick = min(<i32>(r * <f64>n), n - 1);
    }
    const cent = centPtr + <usize>c * rowBytes;
    memory.copy(cent, dataPtr + <usize>pick * rowBytes, rowBytes);
    for (let i = 0; i < n; i++) {
      const mp = minDPtr + (<usize>i << 2);
      const d = dist2(dataPtr + <usize>i * rowBytes, cent, dim);
      if (d < load<f32>(mp)) store<f32>(mp, d);
    }
  }
}

/** Mean over columns of the per-column (population) variance, in f64; sums in point order. */
export function meanColumnVarianceF32(dataPtr: usize, n: i32, dim: i32): f64 {
  if (n <= 0) return 0;
  const rowBytes = <usize>dim << 2;
  let total: f64 = 0;
  for (let j = 0; j < dim; j++) {
    let mean: f64 = 0;
    for (let i = 0; i < n; i++) mean += <f64>load<f32>(dataPtr + <usize>i * rowBytes + (<usize>j << 2));
    mean /= <f64>n;
    let v: f64 = 0;
    for (let i = 0; i < n; i++) {
      const d = <f64>load<f32>(dataPtr + <usize>i * rowBytes + (<usize>j << 2)) - mean;
      v += d * d;
    }
    total += v / <f64>n;
  }
  return total / <f64>dim;
}

/**
 * Full k-means: nInit restarts (restart r seeds the PRNG with seed + r),
 * each k-means++ then up to maxIter Lloyd iterations. An iteration is one
 * assignment and one update; the run stops early when an assignment changes
 * no label or the update's squared shift is ≤ tol · meanColumnVariance.
 * After the loop the points are assigned to the final centroids, so the
 * returned labels are the nearest centroids and inertia = Σ dists.
 * The restart with the lowest inertia (first on ties) is written to
 * outLabels (i32[n]) / outCent (f32[k·dim]); outStats (f64[2]) = [inertia,
 * iterations]. Requires 1 ≤ k ≤ n (the bindings clip and validate).
 */
export function kmeansF32(
  dataPtr: usize, n: i32, dim: i32, k: i32, seed: u32, maxIter: i32, tol: f64, nInit: i32,
  outLabels: usize, outCent: usize, outStats: usize, scratch: usize,
): void {
  const nb = align16(<usize>n << 2);
  const kd = <usize>k * <usize>dim;
  const labels = scratch;
  const dists = labels + nb;
  const minD = dists + nb;
  const cent = minD + nb;
  const sums = cent + align16(kd << 2);
  const counts = sums + align16(kd << 3);

  const tolAbs = tol * meanColumnVarianceF32(dataPtr, n, dim);
  let bestInertia: f64 = Infinity;
  let bestIter = 0;
  for (let r = 0; r < nInit; r++) {
    kmeansPlusPlusF32(dataPtr, n, dim, k, seed + <u32>r, cent, minD);
    memory.fill(labels, 0xff, <usize>n << 2); // -1: every label "changes" on the first assignment
    let iterations = 0;
    for (let it = 0; it < maxIter; it++) {
      const changed = kmeansAssignF32(dataPtr, n, dim, cent, k, labels, dists, sums, counts);
      if (it > 0 && changed == 0) break; // centroids are already the means of these labels
      const shift = kmeansCentroidsF32(sums, counts, k, dim, cent);
      iterations = it + 1;
      if (shift <= tolAbs) break;
    }
    kmeansAssignF32(dataPtr, n, dim, cent, k, labels, dists, 0, 0);
    let inertia: f64 = 0;
    for (let i = 0; i < n; i++) inertia += <f64>load<f32>(dists + (<usize>i << 2));
    if (inertia < bestInertia || r == 0) {
      bestInertia = inertia;
      bestIter = iterations;
      memory.copy(outLabels, labels, <usize>n << 2);
      memory.copy(outCent, cent, kd << 2);
    }
  }
  store<f64>(outStats, bestInertia);
  store<f64>(outStats + 8, <f64>bestIter);
}
