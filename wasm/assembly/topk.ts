// Top-k of an fp32 score vector: indices and scores of the k best, best first.
//
// Order: larger score first; equal scores → lower index first; NaN ranks
// below every number (including -Infinity), NaNs among themselves by index.
// The order is strict (indices differ), so the k best are one set and its
// sorted order is unique: any correct method gives the oracle's answer.
//
// Method: a threshold-filtered candidate buffer (as in "buffered" top-k
// selection). The scores are read in index order; an entry is appended to a
// buffer of 2k slots when it ranks before the threshold, the k-th best seen
// so far. When the buffer fills, quickselect (Hoare's FIND, median of three)
// moves its k best to the front, the k-th of them becomes the threshold and
// the other k slots are reused. An accepted entry so costs O(1) moves on
// average, against a size-k heap's O(log k) sift per entry, which was most
// of the time when many scores are positive (BM25 over a long conversation:
// k = 512, 30% of 100k messages matched). Once the threshold is a number, a
// block of four scores with none above it is skipped with one SIMD compare
// (an equal score has a higher index than the threshold's, so it ranks
// after it), so k ≪ n costs about one pass; runs of such blocks are skipped
// in a loop of their own, sixteen scores a step. The kept entries are sorted
// last (quicksort, insertion sort for short ranges).

/** Whether entry (sa, ia) ranks strictly before entry (sb, ib). */
@inline
function before(sa: f32, ia: i32, sb: f32, ib: i32): bool {
  if (sa != sa) return sb != sb && ia < ib; // NaN only beats a later NaN
  if (sb != sb) return true;
  return sa > sb || (sa == sb && ia < ib);
}

@inline
function swap(hs: usize, hi: usize, a: i32, b: i32): void {
  const pa = <usize>a << 2;
  const pb = <usize>b << 2;
  const s = load<f32>(hs + pa);
  const i = load<i32>(hi + pa);
  store<f32>(hs + pa, load<f32>(hs + pb));
  store<i32>(hi + pa, load<i32>(hi + pb));
  store<f32>(hs + pb, s);
  store<i32>(hi + pb, i);
}

@inline
function ranksBefore(hs: usize, hi: usize, a: i32, b: i32): bool {
  return before(load<f32>(hs + (<usize>a << 2)), load<i32>(hi + (<usize>a << 2)), load<f32>(hs + (<usize>b << 2)), load<i32>(hi + (<usize>b << 2)));
}

/**
 * Partitions slots [lo, hi] (hi > lo) around a median-of-three pivot: better
 * entries before it, worse after. Returns the pivot's final slot.
 */
function partition(hs: usize, hi: usize, lo: i32, hiSlot: i32): i32 {
  const mid = lo + ((hiSlot - lo) >> 1);
  if (ranksBefore(hs, hi, mid, lo)) swap(hs, hi, mid, lo);
  if (ranksBefore(hs, hi, hiSlot, lo)) swap(hs, hi, hiSlot, lo);
  if (ranksBefore(hs, hi, hiSlot, mid)) swap(hs, hi, hiSlot, mid);
  swap(hs, hi, mid, hiSlot); // the median is the pivot, parked at the end
  const ps = load<f32>(hs + (<usize>hiSlot << 2));
  const pi = load<i32>(hi + (<usize>hiSlot << 2));
  let at = lo;
  for (let j = lo; j < hiSlot; j++) {
    if (before(load<f32>(hs + (<usize>j << 2)), load<i32>(hi + (<usize>j << 2)), ps, pi)) {
      swap(hs, hi, at, j);
      at++;
    }
  }
  swap(hs, hi, at, hiSlot);
  return at;
}

/** Reorders slots [lo, hi] so that slot `nth` holds the entry of that rank, better ones before it. */
function selectNth(hs: usize, hi: usize, lo: i32, hiSlot: i32, nth: i32): void {
  while (hiSlot > lo) {
    const p = partition(hs, hi, lo, hiSlot);
    if (p == nth) return;
    if (nth < p) hiSlot = p - 1;
    else lo = p + 1;
  }
}

/** Sorts slots [lo, hi] best first. */
function sortSlots(hs: usize, hi: usize, lo: i32, hiSlot: i32): void {
  while (hiSlot - lo > 16) {
    const p = partition(hs, hi, lo, hiSlot);
    // Recurse into the shorter side, loop on the longer: stack depth stays O(log k).
    if (p - lo < hiSlot - p) {
      sortSlots(hs, hi, lo, p - 1);
      lo = p + 1;
    } else {
      sortSlots(hs, hi, p + 1, hiSlot);
      hiSlot = p - 1;
    }
  }
  for (let a = lo + 1; a <= hiSlot; a++) {
    const s = load<f32>(hs + (<usize>a << 2));
    const i = load<i32>(hi + (<usize>a << 2));
    let b = a - 1;
    while (b >= lo && before(s, i, load<f32>(hs + (<usize>b << 2)), load<i32>(hi + (<usize>b << 2)))) {
      store<f32>(hs + (<usize>(b + 1) << 2), load<f32>(hs + (<usize>b << 2)));
      store<i32>(hi + (<usize>(b + 1) << 2), load<i32>(hi + (<usize>b << 2)));
      b--;
    }
    store<f32>(hs + (<usize>(b + 1) << 2), s);
    store<i32>(hi + (<usize>(b + 1) << 2), i);
  }
}

/**
 * The k best of scores[0..n) (1 ≤ k ≤ n, checked by the caller), best first,
 * into outIdx[0..k) (i32) and outScores[0..k) (f32). Both output buffers must
 * hold 2k entries: they are the candidate buffer, so no other scratch is needed.
 */
export function topKF32(scoresPtr: usize, n: i32, k: i32, outIdx: usize, outScores: usize): void {
  bestOf(scoresPtr, n, k, outIdx, outScores, false, 0, 0);
}

/**
 * The k best of the entries that rank strictly after entry (afterScore,
 * afterIndex) — the next page of a ranking whose previous page ended there —
 * into the same buffers as topKF32; returns how many there were (≤ k). A
 * page costs one pass like the first: reading a ranking in pages of k does
 * not redo the earlier pages' selection and sort, as asking for a longer
 * top-k would.
 */
export function topKAfterF32(scoresPtr: usize, n: i32, k: i32, afterScore: f32, afterIndex: i32, outIdx: usize, outScores: usize): i32 {
  return bestOf(scoresPtr, n, k, outIdx, outScores, true, afterScore, afterIndex);
}

/** Lanes of v that may enter past threshold t: strictly above it, and on a page not above the page's start a. */
@inline
function mayEnter(v: v128, t: v128, a: v128, paged: bool): v128 {
  const above = f32x4.gt(v, t);
  return paged ? v128.andnot(above, f32x4.gt(v, a)) : above;
}

/** Both exports, one body: `paged` is a constant at each call, so the first page's loop carries no test for it. */
@inline
function bestOf(scoresPtr: usize, n: i32, k: i32, outIdx: usize, outScores: usize, paged: bool, as: f32, ai: i32): i32 {
  if (k <= 0) return 0;
  const hs = outScores;
  const hi = outIdx;
  const capacity = 2 * k;
  let size = 0;
  let limited = false; // whether the threshold (ts, ti) is known
  let ts: f32 = 0;
  let ti: i32 = 0;
  const n4 = n & ~3;
  // A page skips a block whose scores all beat its start (they were on earlier pages); NaN never does.
  const pagedNumeric = paged && as == as;
  let i = 0;
  while (i < n) {
    if ((i & 3) == 0 && i < n4) {
      if (limited && ts == ts) {
        // With a numeric threshold only a strictly larger score can enter (and, on a page, one not above
        // its start): skip blocks of four that hold none, in a loop of their own (sixteen at a time on a
        // first page), since once the threshold is high nearly every block is skipped.
        const t = f32x4.splat(ts);
        const a = f32x4.splat(as);
        while (i + 16 <= n4) {
          const p = scoresPtr + (<usize>i << 2);
          const open = v128.or(v128.or(mayEnter(v128.load(p), t, a, pagedNumeric), mayEnter(v128.load(p, 16), t, a, pagedNumeric)),
            v128.or(mayEnter(v128.load(p, 32), t, a, pagedNumeric), mayEnter(v128.load(p, 48), t, a, pagedNumeric)));
          if (v128.any_true(open)) break;
          i += 16;
        }
        while (i < n4 && !v128.any_true(mayEnter(v128.load(scoresPtr + (<usize>i << 2)), t, a, pagedNumeric))) i += 4;
        if (i >= n) break;
      } else if (pagedNumeric && v128.all_true<i32>(f32x4.gt(v128.load(scoresPtr + (<usize>i << 2)), f32x4.splat(as)))) {
        i += 4;
        continue;
      }
    }
    const s = load<f32>(scoresPtr + (<usize>i << 2));
    if ((!paged || before(as, ai, s, i)) && (!limited || before(s, i, ts, ti))) {
      store<f32>(hs + (<usize>size << 2), s);
      store<i32>(hi + (<usize>size << 2), i);
      size++;
      if (size == capacity) {
        selectNth(hs, hi, 0, size - 1, k - 1);
        size = k;
        limited = true;
        ts = load<f32>(hs + (<usize>(k - 1) << 2));
        ti = load<i32>(hi + (<usize>(k - 1) << 2));
      }
    }
    i++;
  }
  if (size > k) {
    selectNth(hs, hi, 0, size - 1, k - 1);
    size = k;
  }
  sortSlots(hs, hi, 0, size - 1);
  return size;
}
