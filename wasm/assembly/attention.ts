// Attention scoring for one KV head (contract: wasm/src/kernels.ts, oracle:
// wasm/oracle/attention.ts).
//
// For query rows q (nq × d: the G query heads of a GQA group × the prompt's
// positions) and keys k (n × d), each row's A = softmax(q·kᵀ/√d) is computed
// in fp32 with the row max subtracted, then folded into one score per key:
//   mode 0  max over rows                      (EpiCache step 5, docs/architecture.md)
//   mode 1  mean over rows, then an optional 1-D max-pool of odd width
//           (SnapKV: the observation window's attention, smoothed)
//   mode 2  out[i] += Σ over rows               (H2O accumulated attention)
//
// Buffers: out and the two scratch rows hold nPad = n rounded up to a
// multiple of 4 floats (so every pass is whole vectors); padded logits are
// −Inf and contribute exp(−Inf) = 0. Mode 1 with pool > 1 also needs a
// third scratch row of nPad floats (scratch holds 3·nPad then).
//
// Returns -1, or the first query row whose logits are not all below +Inf
// with a finite max (overflowing dot products, or NaN/Inf inputs that the
// binding did not screen out); the binding raises a RangeError.

const LOG2E: f32 = 1.4426950408889634;
// ln 2 split so that k·LN2_HI is exact for |k| < 2^15 (Cody–Waite reduction).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// Below this, e^x is under fp32's smallest normal (2^-126); flushed to 0.
const EXP_MIN: f32 = -87.33654;

/** e^x for x ≤ 0, four lanes; relative error ≈ 1e-7 (degree-7 Taylor on |r| ≤ ln2/2), 0 below EXP_MIN. */
// @ts-ignore: decorator
@inline function expNonPositive(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(EXP_MIN));
  const xc = f32x4.pmax(x, f32x4.splat(EXP_MIN));
  const kf = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(kf, f32x4.splat(LN2_HI))), f32x4.mul(kf, f32x4.splat(LN2_LO)));
  // Horner: 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040))))))
  let p = f32x4.add(f32x4.mul(r, f32x4.splat(1.0 / 5040.0)), f32x4.splat(1.0 / 720.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const pow2k = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(kf), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, pow2k), under);
}

/** [Σa, Σb, Σc, Σd] of four vectors (transpose-and-add, no scalar extraction). */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** One dot product of length d (vector body, scalar tail). */
function dot(a: usize, b: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j < d4; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>j << 2)), v128.load(b + (<usize>j << 2))));
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < d; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return s;
}

/**
 * Scaled logits of two query rows (q0, q1) against all n keys into l0, l1
 * (nPad floats each; padding = −Inf). Register block: 2 rows × 4 keys, so
 * each key vector loaded serves two rows and each query vector four keys.
 */
function logitsTwoRows(q0: usize, q1: usize, k: usize, n: i32, d: i32, scale: f32, l0: usize, l1: usize): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const n4 = n & ~3;
  const vscale = f32x4.splat(scale);
  let i = 0;
  for (; i < n4; i += 4) {
    const k0 = k + <usize>i * rowBytes;
    const k1 = k0 + rowBytes;
    const k2 = k1 + rowBytes;
    const k3 = k2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let j = 0;
    for (; j < d4; j += 4) {
      const off = <usize>j << 2;
      const x = v128.load(q0 + off);
      const y = v128.load(q1 + off);
      const v0 = v128.load(k0 + off);
      const v1 = v128.load(k1 + off);
      const v2 = v128.load(k2 + off);
      const v3 = v128.load(k3 + off);
      a0 = f32x4.add(a0, f32x4.mul(x, v0));
      a1 = f32x4.add(a1, f32x4.mul(x, v1));
      a2 = f32x4.add(a2, f32x4.mul(x, v2));
      a3 = f32x4.add(a3, f32x4.mul(x, v3));
      b0 = f32x4.add(b0, f32x4.mul(y, v0));
      b1 = f32x4.add(b1, f32x4.mul(y, v1));
      b2 = f32x4.add(b2, f32x4.mul(y, v2));
      b3 = f32x4.add(b3, f32x4.mul(y, v3));
    }
    let sa = sum4(a0, a1, a2, a3);
    let sb = sum4(b0, b1, b2, b3);
    for (; j < d; j++) {
      // dimensions past the last multiple of 4 (d = 1, 3, 65, …)
      const off = <usize>j << 2;
      const kv = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(k0 + off)), 1, load<f32>(k1 + off)), 2, load<f32>(k2 + off)), 3, load<f32>(k3 + off));
      sa = f32x4.add(sa, f32x4.mul(f32x4.splat(load<f32>(q0 + off)), kv));
      sb = f32x4.add(sb, f32x4.mul(f32x4.splat(load<f32>(q1 + off)), kv));
    }
    v128.store(l0 + (<usize>i << 2), f32x4.mul(sa, vscale));
    v128.store(l1 + (<usize>i << 2), f32x4.mul(sb, vscale));
  }
  for (; i < n; i++) {
    const kr = k + <usize>i * rowBytes;
    store<f32>(l0 + (<usize>i << 2), dot(q0, kr, d) * scale);
    store<f32>(l1 + (<usize>i << 2), dot(q1, kr, d) * scale);
  }
  const nPad = (n + 3) & ~3;
  for (; i < nPad; i++) {
    store<f32>(l0 + (<usize>i << 2), -Infinity);
    store<f32>(l1 + (<usize>i << 2), -Infinity);
  }
}

/** Softmax of one logits row in place (nPad floats); false when its max is not finite. */
function softmaxRow(l: usize, nPad: i32): bool {
  // f32x4.max propagates NaN (unlike pmax), so a NaN logit makes the max NaN.
  let vm = f32x4.splat(-Infinity);
  for (let i = 0; i < nPad; i += 4) vm = f32x4.max(vm, v128.load(l + (<usize>i << 2)));
  const m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  if (!isFinite(m)) return false;
  const vmx = f32x4.splat(m);
  let vsum = f32x4.splat(0);
  for (let i = 0; i < nPad; i += 4) {
    const p = expNonPositive(f32x4.sub(v128.load(l + (<usize>i << 2)), vmx));
    v128.store(l + (<usize>i << 2), p);
    vsum = f32x4.add(vsum, p);
  }
  const sum = f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) + f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
  const inv = f32x4.splat(1 / sum); // sum ≥ 1: the max itself contributes e^0
  for (let i = 0; i < nPad; i += 4) v128.store(l + (<usize>i << 2), f32x4.mul(v128.load(l + (<usize>i << 2)), inv));
  return true;
}

/** Fold one probability row into out: max (mode 0) or sum (modes 1, 2). */
function foldRow(l: usize, out: usize, nPad: i32, mode: i32): void {
  if (mode == 0) {
    for (let i = 0; i < nPad; i += 4) {
      const o = out + (<usize>i << 2);
      v128.store(o, f32x4.pmax(v128.load(o), v128.load(l + (<usize>i << 2))));
    }
  } else {
    for (let i = 0; i < nPad; i += 4) {
      const o = out + (<usize>i << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(l + (<usize>i << 2))));
    }
  }
}

/**
 * 1-D max-pool of odd width over src[0..n) into dst: dst[i] = max of src[j]
 * for |j − i| ≤ width/2 and 0 ≤ j < n — windows are cut at the edges (same
 * as max_pool1d with padding width/2 of −Inf, what SnapKV uses).
 */
function maxPool(src: usize, dst: usize, n: i32, width: i32): void {
  const r = width >> 1;
  let i = 0;
  // interior: whole window inside, four outputs per step
  const innerEnd = n - r;
  for (i = 0; i < min(r, n); i++) store<f32>(dst + (<usize>i << 2), poolOne(src, n, i, r));
  for (; i + 4 <= innerEnd; i += 4) {
    let m = v128.load(src + (<usize>(i - r) << 2));
    for (let j = 1 - r; j <= r; j++) m = f32x4.pmax(m, v128.load(src + (<usize>(i + j) << 2)));
    v128.store(dst + (<usize>i << 2), m);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), poolOne(src, n, i, r));
}

function poolOne(src: usize, n: i32, i: i32, r: i32): f32 {
  const lo = max(0, i - r);
  const hi = min(n - 1, i + r);
  let m = load<f32>(src + (<usize>lo << 2));
  for (let j = lo + 1; j <= hi; j++) m = max(m, load<f32>(src + (<usize>j << 2)));
  return m;
}

/**
 * Attention of nq query rows over n keys (both d wide) folded per key into
 * out (nPad floats). mode: 0 max, 1 mean (+ max-pool of width `pool`), 2 add
 * to out (out holds the running totals on entry). scratch: 2·nPad floats
 * (3·nPad for mode 1 with pool > 1). Returns -1 or the failing query row.
 */
export function attentionScoresF32(qPtr: usize, nq: i32, kPtr: usize, n: i32, d: i32, mode: i32, pool: i32, outPtr: usize, scratchPtr: usize): i32 {
  if (n == 0) return -1;
  const nPad = (n + 3) & ~3;
  if (mode != 2) memory.fill(outPtr, 0, <usize>nPad << 2);
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>d));
  const rowBytes = <usize>d << 2;
  const l0 = scratchPtr;
  const l1 = scratchPtr + (<usize>nPad << 2);
  for (let r = 0; r < nq; r += 2) {
    const two = r + 1 < nq;
    const q0 = qPtr + <usize>r * rowBytes;
    // an odd last row is paired with itself; its second result is ignored
    logitsTwoRows(q0, two ? q0 + rowBytes : q0, kPtr, n, d, scale, l0, l1);
    if (!softmaxRow(l0, nPad)) return r;
    foldRow(l0, outPtr, nPad, mode);
    if (two) {
      if (!softmaxRow(l1, nPad)) return r + 1;
      foldRow(l1, outPtr, nPad, mode);
    }
  }
  if (mode == 1 && nq > 0) {
    const inv = f32x4.splat(<f32>1 / <f32>nq);
    for (let i = 0; i < nPad; i += 4) {
      const o = outPtr + (<usize>i << 2);
      v128.store(o, f32x4.mul(v128.load(o), inv));
    }
    if (pool > 1) {
      const tmp = scratchPtr + (<usize>(2 * nPad) << 2);
      memory.copy(tmp, outPtr, <usize>n << 2);
      maxPool(tmp, outPtr, n, pool);
    }
  }
  return -1;
}
