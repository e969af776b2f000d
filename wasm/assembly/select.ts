// Eviction selection for one layer (contract: wasm/src/kernels.ts, oracle:
// wasm/oracle/select.ts).
//
// Scores are H × n (one row per KV head). Protected positions (attention
// sinks, the recent window; StreamingLLM / H2O) are kept in every head and
// count against the budget. The rest of the budget goes to the highest
// scores: pooled across the layer's heads, so head budgets adapt (AdaKV,
// docs/architecture.md, EpiCache step 5), or per head. Ties go to the lower flattened
// index h·n + i (lower head, then lower position); NaN ranks below −Inf.
// The result is a mask, so kept entries keep their order by construction.
//
// Selection is a radix select on order-preserving u32 keys (no sort):
// 8-bit histograms find the threshold key byte by byte; only the entries
// sharing the threshold's top byte are revisited for the lower bytes.

/** 256-bin histogram for the radix passes. */
const histogram: usize = memory.data(256 * 4, 16);

// Key 0 marks protected entries (excluded), 1 is NaN, numbers are above.
const KEY_PROTECTED: u32 = 0;
const KEY_NAN: u32 = 1;

/** Order-preserving key of an fp32 score: a > b ⇔ key(a) > key(b); −0 and +0 share a key. */
// @ts-ignore: decorator
@inline function scoreKey(x: f32): u32 {
  if (x != x) return KEY_NAN;
  let bits = reinterpret<u32>(x);
  if (bits == 0x80000000) bits = 0; // −0 ties with +0
  // positives: set the sign bit; negatives: invert everything (−Inf → 0x007fffff > KEY_NAN)
  return (bits & 0x80000000) != 0 ? ~bits : bits | 0x80000000;
}

/**
 * Mark in mask the `take` entries with the largest keys among keys[0..count)
 * (take < number of keys above KEY_PROTECTED). Three passes over all keys:
 * a histogram of the top byte; one pass that keeps every entry whose top
 * byte is above the threshold byte and lists (in index order) those equal
 * to it; the three lower bytes are then resolved on that short list only.
 */
function keepTop(keys: usize, count: i32, take: i32, mask: usize, list: usize): void {
  memory.fill(histogram, 0, 256 * 4);
  for (let i = 0; i < count; i++) {
    const slot = histogram + (<usize>(load<u32>(keys + (<usize>i << 2)) >> 24) << 2);
    store<u32>(slot, load<u32>(slot) + 1);
  }
  const top = thresholdBucket(take);
  let need = bucketNeed;
  let listed = 0;
  for (let i = 0; i < count; i++) {
    const byte = load<u32>(keys + (<usize>i << 2)) >> 24;
    if (byte > top) store<u8>(mask + <usize>i, 1);
    else if (byte == top) {
      store<u32>(list + (<usize>listed << 2), i);
      listed++;
    }
  }
  let prefix: u32 = top << 24;
  let prefixMask: u32 = 0xff000000;
  for (let shift = 16; shift >= 0; shift -= 8) {
    memory.fill(histogram, 0, 256 * 4);
    for (let j = 0; j < listed; j++) {
      const key = load<u32>(keys + (<usize>load<u32>(list + (<usize>j << 2)) << 2));
      if ((key & prefixMask) == prefix) {
        const slot = histogram + (<usize>((key >> shift) & 255) << 2);
        store<u32>(slot, load<u32>(slot) + 1);
      }
    }
    prefix |= thresholdBucket(need) << shift;
    need = bucketNeed;
    prefixMask |= <u32>255 << shift;
  }
  // prefix is now the take-th largest key; `need` entries equal to it are still to keep, lowest index first.
  for (let j = 0; j < listed; j++) {
    const i = load<u32>(list + (<usize>j << 2));
    const key = load<u32>(keys + (<usize>i << 2));
    if (key > prefix) store<u8>(mask + <usize>i, 1);
    else if (key == prefix && need > 0) {
      store<u8>(mask + <usize>i, 1);
      need--;
    }
  }
}

// Entries still needed inside the bucket thresholdBucket returned.
let bucketNeed: i32 = 0;

/** Highest histogram bucket b with Σ counts of buckets ≥ b reaching `need`; sets bucketNeed to what remains for b. */
function thresholdBucket(need: i32): u32 {
  let b = 255;
  for (; b > 0; b--) {
    const c = <i32>load<u32>(histogram + (<usize>b << 2));
    if (c >= need) break;
    need -= c;
  }
  bucketNeed = need;
  return <u32>b;
}

/** Keys of one head's n scores (scoreKey, four at a time); protected positions get KEY_PROTECTED. */
function rowKeys(scores: usize, n: i32, protect: usize, keys: usize): void {
  const n4 = n & ~3;
  const negZero = i32x4.splat(0x80000000);
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(scores + (<usize>i << 2));
    const bits = v128.andnot(v, i32x4.eq(v, negZero)); // −0 → +0
    // negatives: ~bits; positives: bits | sign (sign lanes from an arithmetic shift)
    let key = v128.xor(bits, v128.or(i32x4.shr_s(bits, 31), negZero));
    key = v128.bitselect(i32x4.splat(KEY_NAN), key, f32x4.ne(v, v));
    if (protect != 0) {
      // four protect bytes → four lanes of all-ones where protected
      const p = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(protect + <usize>i)));
      key = v128.andnot(key, i32x4.ne(p, i32x4.splat(0)));
    }
    v128.store(keys + (<usize>i << 2), key);
  }
  for (; i < n; i++) {
    const p = protect != 0 && load<u8>(protect + <usize>i) != 0;
    store<u32>(keys + (<usize>i << 2), p ? KEY_PROTECTED : scoreKey(load<f32>(scores + (<usize>i << 2))));
  }
}

/**
 * Keep mask (H × n bytes at maskPtr) from scores (H × n fp32). budget must be
 * in [0, n]. pooled != 0: budget·H entries over all heads; else budget per
 * head. protectPtr (0 = none): n bytes, nonzero = always kept. keysPtr and
 * listPtr: scratch of H·n u32 each.
 */
export function selectKeep(scoresPtr: usize, heads: i32, n: i32, budget: i32, pooled: i32, protectPtr: usize, maskPtr: usize, keysPtr: usize, listPtr: usize): void {
  const total = heads * n;
  let protectedCount = 0;
  if (protectPtr != 0) for (let i = 0; i < n; i++) protectedCount += <i32>(load<u8>(protectPtr + <usize>i) != 0);
  for (let h = 0; h < heads; h++) {
    const row = <usize>h * <usize>n;
    if (protectPtr != 0) {
      for (let i = 0; i < n; i++) store<u8>(maskPtr + row + <usize>i, <u8>(load<u8>(protectPtr + <usize>i) != 0));
    } else {
      memory.fill(maskPtr + row, 0, <usize>n);
    }
    rowKeys(scoresPtr + (row << 2), n, protectPtr, keysPtr + (row << 2));
  }
  const free = n - protectedCount; // candidates per head
  if (pooled != 0) {
    const take = (budget - protectedCount) * heads;
    if (take <= 0) return;
    if (take >= free * heads) {
      memory.fill(maskPtr, 1, <usize>total);
      return;
    }
    keepTop(keysPtr, total, take, maskPtr, listPtr);
  } else {
    const take = budget - protectedCount;
    if (take <= 0) return;
    for (let h = 0; h < heads; h++) {
      const row = <usize>h * <usize>n;
      if (take >= free) memory.fill(maskPtr + row, 1, <usize>n);
      else keepTop(keysPtr + (row << 2), n, take, maskPtr + row, listPtr);
    }
  }
}
