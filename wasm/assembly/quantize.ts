// Group-wise asymmetric KV quantization (contract: wasm/src/kernels.ts,
// oracle: wasm/oracle/quantize.ts, which follows the same arithmetic step by
// step so the two agree bit for bit).
//
// Per group of G values (G = 32/64/128; the last group may be shorter):
//   zero  = min,  scale = (max − min) / L      (L = 255 for int8, 15 for int4)
//   q     = round_half_even((x − min) · (L / (max − min)))  ∈ [0, L]
//   x̂     = q · scale + zero
// so |x − x̂| ≤ scale/2 up to fp32 rounding (KIVI / KVQuant-style asymmetric
// groups; EpiCache's KV pages travel quantized, docs/kv-mode.md "Storage").
//
// Two guards keep extreme groups finite: when max − min overflows fp32 the
// group is quantized at half scale (x/2 − min/2, exact for normal numbers),
// and dequantization of such a group computes (q·scale/2 + zero/2)·2; when
// the range is below 2^-100 (so L/range could overflow) it is quantized at
// 2^64 scale. For subnormal groups the stored scale itself is rounded to the
// subnormal grid, so the error bound holds up to ≈ q·2^-150 (< 2^-141).
// A constant group has scale 0 and dequantizes exactly to its value.
//
// Rounding uses the 2^23 trick: for 0 ≤ t < 2^22, the fp32 sum t + 2^23 has
// ulp 1, so its low mantissa bits are round_half_even(t). This replaces
// nearest + trunc_sat (several instructions each on x86) by one add and one
// integer subtract.
//
// Non-finite input (NaN, ±Inf; for fp16 the exponent-31 patterns) is
// reported as the index of the first offending group; the binding turns it
// into a RangeError. Nothing past that group has been written meaningfully.

const ROUND_MAGIC: f32 = 8388608.0; // 2^23
const ROUND_MAGIC_BITS: i32 = 0x4b000000;
const TWO_POW_112: f32 = 5.192296858534828e33; // f16 → f32 exponent rebias
const TWO_POW_64: f32 = 18446744073709551616.0;
// Below this range, levels / range could overflow fp32 (2^-100 leaves margin).
const TINY_RANGE: f32 = 7.888609052210118e-31; // 2^-100

/** Scratch for one group: fp16 widened to fp32, or values pre-scaled by h (largest group: 128 values). */
const scratch: usize = memory.data(128 * 4, 16);

// Range of the group last scanned (AssemblyScript has no tuples).
let gMin: f32 = 0;
let gMax: f32 = 0;

/** Exact scan: min and max of len values into gMin/gMax; false when one is NaN or ±Inf. */
function groupRange(src: usize, len: i32): bool {
  let mn: f32 = Infinity;
  let mx: f32 = -Infinity;
  let ok = true;
  for (let i = 0; i < len; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    if (!isFinite(x)) ok = false;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  gMin = mn;
  gMax = mx;
  return ok;
}

/**
 * Min and max of a whole group (len a multiple of 16) as lanes 0 and 1
 * (lane 0 NaN when a value is NaN or ±Inf; returned in a register rather
 * than through globals, which V8 keeps in memory), with
 * four independent accumulator chains so the pmin/pmax latency overlaps.
 * pmin/pmax (one minps/maxps each) may drop a NaN, so finiteness is read
 * from a running sum instead: NaN and ±Inf make it non-finite. A sum that
 * overflows on finite values only costs the exact rescan.
 */
// @ts-ignore: decorator
@inline function groupRangeSimd(src: usize, len: i32): v128 {
  let v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
  let mn0 = v0, mn1 = v1, mn2 = v2, mn3 = v3;
  let mx0 = v0, mx1 = v1, mx2 = v2, mx3 = v3;
  // One sum chain fed by a tree of the four loads: 12 live accumulators
  // plus four loads would exceed the 15 vector registers V8 allocates on
  // x64 and spill inside the loop (seen in --print-wasm-code).
  let sum = f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3));
  for (let i = 16; i < len; i += 16) {
    const p = src + (<usize>i << 2);
    v0 = v128.load(p);
    v1 = v128.load(p, 16);
    v2 = v128.load(p, 32);
    v3 = v128.load(p, 48);
    mn0 = f32x4.pmin(mn0, v0); mn1 = f32x4.pmin(mn1, v1); mn2 = f32x4.pmin(mn2, v2); mn3 = f32x4.pmin(mn3, v3);
    mx0 = f32x4.pmax(mx0, v0); mx1 = f32x4.pmax(mx1, v1); mx2 = f32x4.pmax(mx2, v2); mx3 = f32x4.pmax(mx3, v3);
    sum = f32x4.add(sum, f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)));
  }
  if (v128.any_true(f32x4.ne(f32x4.sub(sum, sum), f32x4.splat(0)))) {
    // non-finite sum: exact rescan; NaN in lane 0 reports a NaN or ±Inf value
    const ok = groupRange(src, len);
    return f32x4.replace_lane(f32x4.splat(gMax), 0, ok ? gMin : NaN);
  }
  let mn = f32x4.pmin(f32x4.pmin(mn0, mn1), f32x4.pmin(mn2, mn3));
  let mx = f32x4.pmax(f32x4.pmax(mx0, mx1), f32x4.pmax(mx2, mx3));
  // horizontal min/max by shuffles (scalar f32.min/max lower to several instructions each)
  mn = f32x4.pmin(mn, v128.shuffle<f32>(mn, mn, 2, 3, 0, 1));
  mx = f32x4.pmax(mx, v128.shuffle<f32>(mx, mx, 2, 3, 0, 1));
  mn = f32x4.pmin(mn, v128.shuffle<f32>(mn, mn, 1, 0, 3, 2));
  mx = f32x4.pmax(mx, v128.shuffle<f32>(mx, mx, 1, 0, 3, 2));
  return v128.shuffle<f32>(mn, mx, 0, 4, 0, 4);
}

/**
 * Quantize one group of len finite values at src (range in gMin/gMax);
 * writes data (int8: len bytes, int4: ceil(len/2) bytes), returns the scale.
 */
function quantizeGroup(src: usize, len: i32, bits: i32, dst: usize): f32 {
  const levels: f32 = bits == 8 ? 255 : 15;
  let mn = gMin;
  let range = gMax - mn;
  // Work on x·h − min·h with a power of two h (exact) when the plain
  // arithmetic would leave fp32: max − min overflowing (h = 1/2), or
  // levels / range overflowing for a (sub)normal-tiny range (h = 2^64).
  // Rare: the group is pre-scaled into scratch so the hot loops stay plain.
  let h: f32 = 1;
  if (!isFinite(range)) h = 0.5;
  else if (range > 0 && range < TINY_RANGE) h = TWO_POW_64;
  if (h != 1) {
    for (let i = 0; i < len; i++) store<f32>(scratch + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) * h);
    src = scratch;
    mn *= h;
    range = gMax * h - mn;
  }
  const inv: f32 = range > 0 ? levels / range : 0;
  if (bits == 8) quantizeGroup8(src, len, dst, mn, inv);
  else quantizeGroup4(src, len, dst, mn, inv);
  return (range / levels) * (<f32>1 / h);
}

// q = round_half_even((x − min)·inv) for one value, scalar (tails); bit-identical to the vector path.
// @ts-ignore: decorator
@inline function quantizeOne(x: f32, mn: f32, inv: f32): i32 {
  return reinterpret<i32>((x - mn) * inv + ROUND_MAGIC) - ROUND_MAGIC_BITS;
}

// Four values → four i32 q lanes.
// @ts-ignore: decorator
@inline function quantize4(v: v128, vmn: v128, vinv: v128): v128 {
  const t = f32x4.add(f32x4.mul(f32x4.sub(v, vmn), vinv), f32x4.splat(ROUND_MAGIC));
  return i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS));
}

// 16 values → 16 bytes (q ≤ 255; the unsigned narrowing saturates).
// @ts-ignore: decorator
@inline function quantize16(p: usize, vmn: v128, vinv: v128): v128 {
  const a = quantize4(v128.load(p), vmn, vinv);
  const b = quantize4(v128.load(p, 16), vmn, vinv);
  const c = quantize4(v128.load(p, 32), vmn, vinv);
  const d = quantize4(v128.load(p, 48), vmn, vinv);
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(a, b), i16x8.narrow_i32x4_u(c, d));
}

// @ts-ignore: decorator
@inline function quantizeGroup8(src: usize, len: i32, dst: usize, mn: f32, inv: f32): void {
  const vmn = f32x4.splat(mn);
  const vinv = f32x4.splat(inv);
  const len16 = len & ~15;
  let i = 0;
  for (; i < len16; i += 16) v128.store(dst + <usize>i, quantize16(src + (<usize>i << 2), vmn, vinv));
  for (; i < len; i++) store<u8>(dst + <usize>i, <u8>min(quantizeOne(load<f32>(src + (<usize>i << 2)), mn, inv), 255));
}

// @ts-ignore: decorator
@inline function quantizeGroup4(src: usize, len: i32, dst: usize, mn: f32, inv: f32): void {
  const vmn = f32x4.splat(mn);
  const vinv = f32x4.splat(inv);
  const lowNibble = i16x8.splat(0x000f);
  const highNibble = i16x8.splat(0x00f0);
  const len32 = len & ~31;
  let i = 0;
  for (; i < len32; i += 32) {
    // Each byte pair (q[2j], q[2j+1]) read as one u16 lane is q[2j] | q[2j+1] << 8;
    // fold it to q[2j] | q[2j+1] << 4 in the lane's low byte, then narrow to bytes.
    const a = quantize16(src + (<usize>i << 2), vmn, vinv);
    const b = quantize16(src + (<usize>(i + 16) << 2), vmn, vinv);
    const pa = v128.or(v128.and(a, lowNibble), v128.and(i16x8.shr_u(a, 4), highNibble));
    const pb = v128.or(v128.and(b, lowNibble), v128.and(i16x8.shr_u(b, 4), highNibble));
    v128.store(dst + <usize>(i >> 1), i8x16.narrow_i16x8_u(pa, pb));
  }
  for (; i < len; i += 2) {
    const lo = min(quantizeOne(load<f32>(src + (<usize>i << 2)), mn, inv), 15);
    const hi = i + 1 < len ? min(quantizeOne(load<f32>(src + (<usize>(i + 1) << 2)), mn, inv), 15) : 0;
    store<u8>(dst + <usize>(i >> 1), <u8>(lo | (hi << 4)));
  }
}

/**
 * Quantize one whole group (len = groupSize, a multiple of 16) of fp32 at src:
 * the hot path, everything inline and the group's parameters kept in
 * vector registers. Falls back to quantizeGroupExact for non-finite values
 * (returns false) and for ranges that need pre-scaling. Stores scale and zero.
 */
// @ts-ignore: decorator
@inline function quantizeWholeGroup(src: usize, len: i32, bits: i32, dst: usize, scalePtr: usize, zeroPtr: usize): bool {
  const mm = groupRangeSimd(src, len);
  const mn = f32x4.extract_lane(mm, 0);
  if (isNaN(mn)) return false;
  const mx = f32x4.extract_lane(mm, 1);
  const range = mx - mn;
  const levels: f32 = bits == 8 ? 255 : 15;
  if (!isFinite(range) || (range > 0 && range < TINY_RANGE)) {
    gMin = mn;
    gMax = mx;
    store<f32>(scalePtr, quantizeGroup(src, len, bits, dst));
  } else {
    const inv: f32 = range > 0 ? levels / range : 0;
    if (bits == 8) quantizeGroup8(src, len, dst, mn, inv);
    else quantizeGroup4(src, len, dst, mn, inv);
    store<f32>(scalePtr, range / levels);
  }
  store<f32>(zeroPtr, mn);
  return true;
}

/** Any group (a short tail included): exact scan, then quantizeGroup. False on non-finite values. */
function quantizeGroupExact(src: usize, len: i32, bits: i32, dst: usize, scalePtr: usize, zeroPtr: usize): bool {
  if (!groupRange(src, len)) return false;
  store<f32>(scalePtr, quantizeGroup(src, len, bits, dst));
  store<f32>(zeroPtr, gMin);
  return true;
}

/**
 * Quantize `length` fp32 values at srcPtr in groups of groupSize to `bits` (8 or 4).
 * Writes data (int8: length bytes; int4: ceil(length/2) bytes, low nibble first),
 * scales and zeros (one f32 each per group). Returns -1, or the index of the
 * first group holding a NaN or ±Inf.
 */
export function quantizeF32(srcPtr: usize, length: i32, bits: i32, groupSize: i32, dataPtr: usize, scalesPtr: usize, zerosPtr: usize): i32 {
  const whole = length / groupSize;
  const groups = (length + groupSize - 1) / groupSize;
  // separate loops per bit width keep `bits` constant inside the inlined body
  if (bits == 8) {
    for (let g = 0; g < whole; g++) {
      const start = g * groupSize;
      if (!quantizeWholeGroup(srcPtr + (<usize>start << 2), groupSize, 8, dataPtr + <usize>start, scalesPtr + (<usize>g << 2), zerosPtr + (<usize>g << 2))) return g;
    }
  } else {
    for (let g = 0; g < whole; g++) {
      const start = g * groupSize;
      if (!quantizeWholeGroup(srcPtr + (<usize>start << 2), groupSize, 4, dataPtr + <usize>(start >> 1), scalesPtr + (<usize>g << 2), zerosPtr + (<usize>g << 2))) return g;
    }
  }
  if (groups > whole) {
    const start = whole * groupSize;
    const dst = dataPtr + <usize>(bits == 8 ? start : start >> 1);
    if (!quantizeGroupExact(srcPtr + (<usize>start << 2), length - start, bits, dst, scalesPtr + (<usize>whole << 2), zerosPtr + (<usize>whole << 2))) return whole;
  }
  return -1;
}

/** Widen len fp16 bit patterns to fp32 at dst (exact); false when one is Inf or NaN (exponent 31). */
function widenF16(src: usize, len: i32, dst: usize): bool {
  const expMask = i16x8.splat(0x7c00);
  const signMask = i32x4.splat(0x8000);
  const magMask = i32x4.splat(0x7fff);
  const rebias = f32x4.splat(TWO_POW_112);
  let bad = i16x8.splat(0);
  const len8 = len & ~7;
  let i = 0;
  for (; i < len8; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    bad = v128.or(bad, i16x8.eq(v128.and(h, expMask), expMask));
    const lo = i32x4.extend_low_i16x8_u(h);
    const hi = i32x4.extend_high_i16x8_u(h);
    // |x| bits << 13 read as f32 has the right mantissa and an exponent 112 short
    // (fp16 bias 15 vs fp32 127): one exact multiply by 2^112 fixes normals and subnormals.
    const flo = v128.or(f32x4.mul(i32x4.shl(v128.and(lo, magMask), 13), rebias), i32x4.shl(v128.and(lo, signMask), 16));
    const fhi = v128.or(f32x4.mul(i32x4.shl(v128.and(hi, magMask), 13), rebias), i32x4.shl(v128.and(hi, signMask), 16));
    v128.store(dst + (<usize>i << 2), flo);
    v128.store(dst + (<usize>i << 2), fhi, 16);
  }
  let ok = !v128.any_true(bad);
  for (; i < len; i++) {
    const h = <u32>load<u16>(src + (<usize>i << 1));
    if ((h & 0x7c00) == 0x7c00) ok = false;
    const f = reinterpret<f32>((h & 0x7fff) << 13) * TWO_POW_112;
    store<u32>(dst + (<usize>i << 2), reinterpret<u32>(f) | ((h & 0x8000) << 16));
  }
  return ok;
}

/** quantizeF32 for IEEE fp16 bit patterns (u16 at srcPtr); each group is widened exactly to fp32 first. */
export function quantizeF16(srcPtr: usize, length: i32, bits: i32, groupSize: i32, dataPtr: usize, scalesPtr: usize, zerosPtr: usize): i32 {
  const groups = (length + groupSize - 1) / groupSize;
  for (let g = 0; g < groups; g++) {
    const start = g * groupSize;
    const len = min(groupSize, length - start);
    if (!widenF16(srcPtr + (<usize>start << 1), len, scratch)) return g;
    const dst = dataPtr + <usize>(bits == 8 ? start : start >> 1);
    if (len == groupSize) quantizeWholeGroup(scratch, len, bits, dst, scalesPtr + (<usize>g << 2), zerosPtr + (<usize>g << 2));
    else quantizeGroupExact(scratch, len, bits, dst, scalesPtr + (<usize>g << 2), zerosPtr + (<usize>g << 2));
  }
  return -1;
}

// 4 i32 q lanes → 4 fp32 values (q < 2^8, so the signed convert is exact).
// @ts-ignore: decorator
@inline function dequant4(q: v128, vs: v128, vz: v128, half: bool): v128 {
  const y = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(q), vs), vz);
  return half ? f32x4.add(y, y) : y; // half: (q·s/2 + z/2)·2, the doubling is exact
}

// 16 bytes of q → 16 fp32 values at out.
// @ts-ignore: decorator
@inline function dequant16(bytes: v128, out: usize, vs: v128, vz: v128, half: bool): void {
  const lo = i16x8.extend_low_i8x16_u(bytes);
  const hi = i16x8.extend_high_i8x16_u(bytes);
  v128.store(out, dequant4(i32x4.extend_low_i16x8_u(lo), vs, vz, half));
  v128.store(out, dequant4(i32x4.extend_high_i16x8_u(lo), vs, vz, half), 16);
  v128.store(out, dequant4(i32x4.extend_low_i16x8_u(hi), vs, vz, half), 32);
  v128.store(out, dequant4(i32x4.extend_high_i16x8_u(hi), vs, vz, half), 48);
}

/** Inverse of quantizeF32/quantizeF16: `length` fp32 values at outPtr. */
export function dequantize(dataPtr: usize, length: i32, bits: i32, groupSize: i32, scalesPtr: usize, zerosPtr: usize, outPtr: usize): void {
  const groups = (length + groupSize - 1) / groupSize;
  const levels: f32 = bits == 8 ? 255 : 15;
  const nibble = i8x16.splat(0x0f);
  for (let g = 0; g < groups; g++) {
    const start = g * groupSize;
    const len = min(groupSize, length - start);
    let s = load<f32>(scalesPtr + (<usize>g << 2));
    let z = load<f32>(zerosPtr + (<usize>g << 2));
    // q·scale may overflow when the group's range does (see the header).
    const half = !isFinite(s * levels);
    if (half) {
      s *= 0.5;
      z *= 0.5;
    }
    const vs = f32x4.splat(s);
    const vz = f32x4.splat(z);
    const out = outPtr + (<usize>start << 2);
    let i = 0;
    if (bits == 8) {
      const src = dataPtr + <usize>start;
      const len16 = len & ~15;
      for (; i < len16; i += 16) dequant16(v128.load(src + <usize>i), out + (<usize>i << 2), vs, vz, half);
      for (; i < len; i++) {
        const x = <f32>load<u8>(src + <usize>i) * s + z;
        store<f32>(out + (<usize>i << 2), half ? x + x : x);
      }
    } else {
      const src = dataPtr + <usize>(start >> 1);
      const len32 = len & ~31;
      for (; i < len32; i += 32) {
        const b = v128.load(src + <usize>(i >> 1));
        const lo = v128.and(b, nibble);
        const hi = v128.and(i16x8.shr_u(b, 4), nibble);
        // interleave low/high nibbles back into value order
        dequant16(i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), out + (<usize>i << 2), vs, vz, half);
        dequant16(i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), out + (<usize>(i + 16) << 2), vs, vz, half);
      }
      for (; i < len; i++) {
        const b = <u32>load<u8>(src + <usize>(i >> 1));
        const q = (i & 1) == 0 ? b & 15 : b >> 4;
        const x = <f32>q * s + z;
        store<f32>(out + (<usize>i << 2), half ? x + x : x);
      }
    }
  }
}
