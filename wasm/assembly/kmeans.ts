// k-means for EpiCache episodes (docs/architecture.md, EpiCache step 3; arXiv 2509.17396 §3
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
// distance in f32 SIMD lanes (see "assignment" below); column sums are
// blocked (see "column sums" below: f32 over runs of SUM_BLOCK points of a
// cluster, the run totals added in f64), accumulated in the assignment pass
// while each point is in L1; means, variances, shifts and inertia in f64;
// centroids stored as f32. wasm/oracle/kmeans.ts sums in the same order, so
// its sums are the same numbers.
//
// Scratch (bytes from kmeansScratchBytes), carved in this order:
//   labels i32[n] · dists f32[n] · minD f32[n] · cent f32[k·dim] ·
//   work (kmeansWorkBytes)   (each 16-byte aligned)

@inline
function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

// ---- column sums ----------------------------------------------------------------
//
// The update needs Σ x per cluster and column. Adding every point into f64
// sums costs, per four values, two f32→f64 conversions, two f64 loads, adds
// and stores, about a third of the instructions of scoring the point against
// k = 8 centroids. Instead each cluster has an f32 run (one f32x4 add per
// four values): a point's values are added to its cluster's run, and after
// SUM_BLOCK points of that cluster (and at the end of the pass) the run is
// added to the f64 sums and cleared. So a column's sum is
//   Σ_runs f64( f32 sum of ≤ SUM_BLOCK values in point order )
// with the runs in point order; a run's f32 rounding error is at most
// (SUM_BLOCK − 1)·2⁻²⁴·Σ|x| over its points (≤ 2e-6 relative for 32, below
// what a k-means tolerance resolves). The oracle (wasm/oracle/kmeans.ts,
// `blockedColumnSums`) computes the same numbers with Math.fround, so equal
// labels still give bit-equal centroids. Measured here (EPYC, Node 20,
// 2000 × 384, k = 8): one Lloyd iteration 0.63 → 0.52 ms with runs of 16;
// runs of 32 flush half as often (−3% in a tight loop; 64: −3.5%).
//
// Work region of an assignment (bytes from kmeansWorkBytes(k, dim)), in this
// order, each part 16-byte aligned:
//   panel f32[⌊k/4⌋·4 · ⌊dim/4⌋·4]  centroids in groups of four, interleaved
//                                   four values at a time (see "assignment")
//   norms f32[k] (‖c‖²) · sums f64[k·dim] · runs f32[k·dim] ·
//   pending i32[k] (points in each run) · counts i32[k]

/** Points of one cluster summed in f32 before the run is added to the f64 sums. */
const SUM_BLOCK: i32 = 32;

@inline function panelBytes(k: i32, dim: i32): usize {
  return align16((<usize>(k & ~3) * <usize>(dim & ~3)) << 2);
}
@inline function normsAt(work: usize, k: i32, dim: i32): usize {
  return work + panelBytes(k, dim);
}
@inline function sumsAt(work: usize, k: i32, dim: i32): usize {
  return normsAt(work, k, dim) + align16(<usize>k << 2);
}
@inline function runsAt(work: usize, k: i32, dim: i32): usize {
  return sumsAt(work, k, dim) + align16((<usize>k * <usize>dim) << 3);
}
@inline function pendingAt(work: usize, k: i32, dim: i32): usize {
  return runsAt(work, k, dim) + align16((<usize>k * <usize>dim) << 2);
}
@inline function countsAt(work: usize, k: i32, dim: i32): usize {
  return pendingAt(work, k, dim) + align16(<usize>k << 2);
}

/** Bytes of the work region kmeansAssignF32 / kmeansCentroidsF32 use (k clusters of dim values). */
export function kmeansWorkBytes(k: i32, dim: i32): usize {
  return countsAt(0, k, dim) + align16(<usize>k << 2);
}

/** Bytes of scratch kmeansF32 needs for n points of dim values and k clusters. */
export function kmeansScratchBytes(n: i32, dim: i32, k: i32): usize {
  const nb = align16(<usize>n << 2);
  const kd = <usize>k * <usize>dim;
  return 3 * nb + align16(kd << 2) + kmeansWorkBytes(k, dim);
}

/** sums[0..dim) += f64(run[0..dim)); run ← 0. */
function flushRun(sums: usize, run: usize, dim: i32): void {
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const sp = sums + (<usize>j << 3);
    const rp = run + (<usize>j << 2);
    // 8-byte loads feed cvtps2pd straight from memory (no shuffle)
    v128.store(sp, f64x2.add(v128.load(sp), f64x2.promote_low_f32x4(v128.load64_zero(rp))));
    v128.store(sp, f64x2.add(v128.load(sp, 16), f64x2.promote_low_f32x4(v128.load64_zero(rp, 8))), 16);
    v128.store(rp, f32x4.splat(0));
  }
  for (; j < dim; j++) {
    const sp = sums + (<usize>j << 3);
    const rp = run + (<usize>j << 2);
    store<f64>(sp, load<f64>(sp) + <f64>load<f32>(rp));
    store<f32>(rp, 0);
  }
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

/**
 * [lanes(a), lanes(b), lanes(c), lanes(d)] bit for bit (same order of adds
 * per lane), by a 4 × 4 transpose: 8 shuffles and 3 adds instead of 12
 * extracts and 12 scalar adds.
 */
@inline
function lanes4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  const l0 = v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5);
  const l1 = v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7);
  const l2 = v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5);
  const l3 = v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7);
  return f32x4.add(f32x4.add(f32x4.add(l0, l1), l2), l3);
}

/**
 * acc + a·b per lane for the assignment's dot products: mul then add in the
 * baseline build; in the relaxed-SIMD build (`node scripts/build-wasm.mjs
 * --relaxed`, not what production loads: see docs/kernels.md) one
 * f32x4.relaxed_madd, fused where the CPU has FMA. Every dot-product path
 * of the assignment uses it, so paths agree within a build.
 */
@inline
function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// ---- assignment ---------------------------------------------------------------
//
// The nearest centroid minimises ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², i.e. the score
// ‖c‖² − 2x·c (‖x‖² is the same for every c). A dot product costs a multiply
// and an add per value where the difference form costs a subtract, a
// multiply and an add (baseline WASM SIMD has no FMA; subtracts and adds
// share the FP add ports). Measured here (EPYC, Node 20, 2000 × 384, k = 8):
// the scoring loop 0.36 ms vs 0.47 ms for differences.
//
// Register blocking: two points × four centroids per pass, eight
// independent accumulators (each centroid load serves two points, each
// point load four centroids; 12 of V8's 15 allocatable xmm registers; 3 × 4
// or an unrolled loop spill). The scoring loop is bound by instructions per
// value rather than by memory, so its addressing is kept minimal: the
// centroids are copied once per call into a panel where each group of four
// is interleaved four values at a time (64 contiguous bytes per step, read
// with constant offsets from one pointer), and the loop walks three
// pointers instead of recomputing six addresses (V8 emits an add per wasm
// address): −5% in a tight loop here. The eight dot products of a block are
// reduced by two 4 × 4 transposes (lanes4; same add order per lane as
// lanes(), so every path still ranks alike): −4% of the scoring pass. The
// loop is then bound by instruction throughput (27 x64 instructions per
// step); the relaxed-SIMD build fuses each multiply-add (madd), −18%.
//
// When the caller wants distances (the final assignment of kmeansF32), the
// winner's distance is computed exactly in the difference form, with four
// accumulators, so dists and inertia have no cancellation error. A Lloyd
// iteration needs none, so with sums it computes none. Only near-ties
// (score gaps of a few f32 ulps of ‖c‖²) may pick another label than the
// oracle's exact f64 comparison, as its header says.

/** x·c over the first dim4 values, one f32x4 accumulator (the lane order every path shares), then the scalar tail. */
@inline
function dotLanes(x: usize, c: usize, dim4: i32, dim: i32): f32 {
  let acc = f32x4.splat(0);
  for (let j = 0; j < dim4; j += 4) {
    const off = <usize>j << 2;
    acc = madd(v128.load(x + off), v128.load(c + off), acc);
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

/** Nearest centroid of one point by score (ties → lower index); norms f32[k] holds ‖c‖². */
function nearest1(x: usize, centPtr: usize, norms: usize, k: i32, dim: i32): i32 {
  const rowBytes = <usize>dim << 2;
  const dim4 = dim & ~3;
  let best: f32 = Infinity;
  let bestC = 0;
  for (let c = 0; c < k; c++) {
    const s = load<f32>(norms + (<usize>c << 2)) - 2 * dotLanes(x, centPtr + <usize>c * rowBytes, dim4, dim);
    if (s < best) { best = s; bestC = c; }
  }
  return bestC;
}

/** Panel of centroids 0..k4: group g, values j..j+3 → 64 bytes at panel + g·dim4·16 + j·16 (centroid 4g+q at +16q). */
function fillPanel(panel: usize, centPtr: usize, k4: i32, dim4: i32, rowBytes: usize): void {
  for (let c = 0; c < k4; c++) {
    const src = centPtr + <usize>c * rowBytes;
    const dst = panel + <usize>(c >> 2) * (<usize>dim4 << 4) + (<usize>(c & 3) << 4);
    for (let j = 0; j < dim4; j += 4) v128.store(dst + (<usize>j << 4), v128.load(src + (<usize>j << 2)));
  }
}

/**
 * Assignment step: labels[i] = the nearest centroid (ties → lower index);
 * returns how many labels changed. work: kmeansWorkBytes(k, dim) bytes.
 * distsPtr ≠ 0: dists[i] = the exact squared distance to it.
 * withSums ≠ 0: also accumulates the update's column sums and counts into
 * work while each point is in L1, so a Lloyd iteration reads the data once;
 * kmeansCentroidsF32 finishes it.
 * Every path computes a point's dot products in the lane order of dotLanes,
 * so a label does not depend on which path handled the point.
 */
export function kmeansAssignF32(
  dataPtr: usize, n: i32, dim: i32, centPtr: usize, k: i32, labelsPtr: usize, distsPtr: usize,
  work: usize, withSums: i32,
): i32 {
  const rowBytes = <usize>dim << 2;
  const dim4 = dim & ~3;
  const k4 = k & ~3;
  const groupBytes = <usize>dim4 << 4;
  const panel = work;
  const norms = normsAt(work, k, dim);
  if (withSums != 0) {
    const sums = sumsAt(work, k, dim);
    memory.fill(sums, 0, kmeansWorkBytes(k, dim) - (sums - work));
  }
  for (let c = 0; c < k; c++) {
    const cp = centPtr + <usize>c * rowBytes;
    store<f32>(norms + (<usize>c << 2), dotLanes(cp, cp, dim4, dim));
  }
  fillPanel(panel, centPtr, k4, dim4, rowBytes);
  let changed = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const x = dataPtr + <usize>i * rowBytes;
    const y = x + rowBytes;
    const end = x + (<usize>dim4 << 2);
    let bx: f32 = Infinity;
    let by: f32 = Infinity;
    let cx = 0;
    let cy = 0;
    let c = 0;
    for (; c < k4; c += 4) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      let px = x;
      let py = y;
      let pc = panel + <usize>(c >> 2) * groupBytes;
      while (px < end) {
        const xv = v128.load(px);
        const yv = v128.load(py);
        let cv = v128.load(pc);
        a0 = madd(xv, cv, a0);
        b0 = madd(yv, cv, b0);
        cv = v128.load(pc, 16);
        a1 = madd(xv, cv, a1);
        b1 = madd(yv, cv, b1);
        cv = v128.load(pc, 32);
        a2 = madd(xv, cv, a2);
        b2 = madd(yv, cv, b2);
        cv = v128.load(pc, 48);
        a3 = madd(xv, cv, a3);
        b3 = madd(yv, cv, b3);
        px += 16;
        py += 16;
        pc += 64;
      }
      const c0 = centPtr + <usize>c * rowBytes;
      const c1 = c0 + rowBytes;
      const c2 = c1 + rowBytes;
      const c3 = c2 + rowBytes;
      // scores ‖c‖² − 2x·c of the four centroids, for x and for y
      const norm4 = v128.load(norms + (<usize>c << 2));
      let dx = lanes4(a0, a1, a2, a3);
      let dy = lanes4(b0, b1, b2, b3);
      if (dim4 < dim) {
        const c0 = centPtr + <usize>c * rowBytes;
        const c1 = c0 + rowBytes;
        const c2 = c1 + rowBytes;
        const c3 = c2 + rowBytes;
        dx = f32x4.add(dx, f32x4(dotTail(x, c0, dim4, dim), dotTail(x, c1, dim4, dim), dotTail(x, c2, dim4, dim), dotTail(x, c3, dim4, dim)));
        dy = f32x4.add(dy, f32x4(dotTail(y, c0, dim4, dim), dotTail(y, c1, dim4, dim), dotTail(y, c2, dim4, dim), dotTail(y, c3, dim4, dim)));
      }
      const sx = f32x4.sub(norm4, f32x4.add(dx, dx));
      const sy = f32x4.sub(norm4, f32x4.add(dy, dy));
      const s0 = f32x4.extract_lane(sx, 0);
      const s1 = f32x4.extract_lane(sx, 1);
      const s2 = f32x4.extract_lane(sx, 2);
      const s3 = f32x4.extract_lane(sx, 3);
      const t0 = f32x4.extract_lane(sy, 0);
      const t1 = f32x4.extract_lane(sy, 1);
      const t2 = f32x4.extract_lane(sy, 2);
      const t3 = f32x4.extract_lane(sy, 3);
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
      const nc = load<f32>(norms + (<usize>c << 2));
      const s = nc - 2 * dotLanes(x, cp, dim4, dim);
      if (s < bx) { bx = s; cx = c; }
      const t = nc - 2 * dotLanes(y, cp, dim4, dim);
      if (t < by) { by = t; cy = c; }
    }
    changed += settle(i, x, cx, centPtr, k, dim, labelsPtr, distsPtr, work, withSums);
    changed += settle(i + 1, y, cy, centPtr, k, dim, labelsPtr, distsPtr, work, withSums);
  }
  if (i < n) {
    const x = dataPtr + <usize>i * rowBytes;
    changed += settle(i, x, nearest1(x, centPtr, norms, k, dim), centPtr, k, dim, labelsPtr, distsPtr, work, withSums);
  }
  if (withSums != 0) {
    const pending = pendingAt(work, k, dim);
    for (let c = 0; c < k; c++) {
      if (load<i32>(pending + (<usize>c << 2)) > 0) {
        flushRun(sumsAt(work, k, dim) + <usize>c * (<usize>dim << 3), runsAt(work, k, dim) + <usize>c * rowBytes, dim);
      }
    }
  }
  return changed;
}

/** Record point i's label (and its exact distance, and its share of the sums); 1 if the label changed. */
@inline
function settle(
  i: i32, x: usize, c: i32, centPtr: usize, k: i32, dim: i32, labelsPtr: usize, distsPtr: usize, work: usize, withSums: i32,
): i32 {
  const lp = labelsPtr + (<usize>i << 2);
  const changed = load<i32>(lp) != c ? 1 : 0;
  store<i32>(lp, c);
  if (distsPtr != 0) {
    store<f32>(distsPtr + (<usize>i << 2), distWide(x, centPtr + <usize>c * (<usize>dim << 2), dim));
  }
  if (withSums != 0) {
    const run = runsAt(work, k, dim) + <usize>c * (<usize>dim << 2);
    addRow(run, x, dim);
    const cp = countsAt(work, k, dim) + (<usize>c << 2);
    store<i32>(cp, load<i32>(cp) + 1);
    const pp = pendingAt(work, k, dim) + (<usize>c << 2);
    const p = load<i32>(pp) + 1;
    if (p == SUM_BLOCK) {
      flushRun(sumsAt(work, k, dim) + <usize>c * (<usize>dim << 3), run, dim);
      store<i32>(pp, 0);
    } else {
      store<i32>(pp, p);
    }
  }
  return changed;
}

/**
 * ‖x − c‖² with four accumulators (16 values per step: a single chain
 * would wait on the add latency), then 4 at a time, then the scalar tail.
 */
@inline
function distWide(x: usize, c: usize, dim: i32): f32 {
  const dim4 = dim & ~3;
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

/** run[j] += x[j] in f32: the point joins its cluster's current run (see "column sums"). */
@inline
function addRow(run: usize, x: usize, dim: i32): void {
  let j = dim & ~15;
  let rp = run;
  let xp = x;
  const end = x + (<usize>j << 2);
  while (xp < end) { // walking pointers: no address add per access (as in the scoring loop)
    v128.store(rp, f32x4.add(v128.load(rp), v128.load(xp)));
    v128.store(rp, f32x4.add(v128.load(rp, 16), v128.load(xp, 16)), 16);
    v128.store(rp, f32x4.add(v128.load(rp, 32), v128.load(xp, 32)), 32);
    v128.store(rp, f32x4.add(v128.load(rp, 48), v128.load(xp, 48)), 48);
    rp += 64;
    xp += 64;
  }
  for (; j + 4 <= dim; j += 4) {
    const rp = run + (<usize>j << 2);
    v128.store(rp, f32x4.add(v128.load(rp), v128.load(x + (<usize>j << 2))));
  }
  for (; j < dim; j++) {
    const rp = run + (<usize>j << 2);
    store<f32>(rp, load<f32>(rp) + load<f32>(x + (<usize>j << 2)));
  }
}

/**
 * Finish an update from the sums and counts kmeansAssignF32 accumulated in
 * work: centroids become the means (f64 division, stored as f32); an empty
 * cluster keeps its centroid. Returns the squared shift Σ‖new − old‖² (f64).
 */
export function kmeansCentroidsF32(work: usize, k: i32, dim: i32, centPtr: usize): f64 {
  const sumsPtr = sumsAt(work, k, dim);
  const countsPtr = countsAt(work, k, dim);
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
  const work = cent + align16(kd << 2);

  const tolAbs = tol * meanColumnVarianceF32(dataPtr, n, dim);
  let bestInertia: f64 = Infinity;
  let bestIter = 0;
  for (let r = 0; r < nInit; r++) {
    kmeansPlusPlusF32(dataPtr, n, dim, k, seed + <u32>r, cent, minD);
    memory.fill(labels, 0xff, <usize>n << 2); // -1: every label "changes" on the first assignment
    let iterations = 0;
    for (let it = 0; it < maxIter; it++) {
      const changed = kmeansAssignF32(dataPtr, n, dim, cent, k, labels, 0, work, 1);
      if (it > 0 && changed == 0) break; // centroids are already the means of these labels
      const shift = kmeansCentroidsF32(work, k, dim, cent);
      iterations = it + 1;
      if (shift <= tolAbs) break;
    }
    kmeansAssignF32(dataPtr, n, dim, cent, k, labels, dists, work, 0);
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
