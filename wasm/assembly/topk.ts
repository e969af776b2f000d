// Top-k of an fp32 score vector: indices and scores of the k best, best first.
//
// Order: larger score first; equal scores → lower index first; NaN ranks
// below every number (including -Infinity), NaNs among themselves by index.
//
// A size-k min-heap keyed by that order (root = the worst kept entry) sees
// the scores in index order, so a later entry with a score equal to the
// root's never displaces it: the tie rule costs nothing. Once the heap is
// full and its root is a number, blocks of four scores are first compared
// against the root with one SIMD compare; most blocks hold nothing better
// and are skipped, which makes k ≪ n cost about one pass over the scores.

/** Whether entry (sa, ia) ranks strictly before entry (sb, ib). */
@inline
function before(sa: f32, ia: i32, sb: f32, ib: i32): bool {
  if (sa != sa) return sb != sb && ia < ib; // NaN only beats a later NaN
  if (sb != sb) return true;
  return sa > sb || (sa == sb && ia < ib);
}

/** Restore the heap property (worst at the root) from slot `pos` downwards. */
function siftDown(hs: usize, hi: usize, size: i32, pos: i32): void {
  const s = load<f32>(hs + (<usize>pos << 2));
  const idx = load<i32>(hi + (<usize>pos << 2));
  while (true) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    let cs = load<f32>(hs + (<usize>child << 2));
    let ci = load<i32>(hi + (<usize>child << 2));
    const right = child + 1;
    if (right < size) {
      const rs = load<f32>(hs + (<usize>right << 2));
      const ri = load<i32>(hi + (<usize>right << 2));
      // the worse child goes up
      if (before(cs, ci, rs, ri)) {
        child = right;
        cs = rs;
        ci = ri;
      }
    }
    if (!before(s, idx, cs, ci)) break; // the child is not worse than us
    store<f32>(hs + (<usize>pos << 2), cs);
    store<i32>(hi + (<usize>pos << 2), ci);
    pos = child;
  }
  store<f32>(hs + (<usize>pos << 2), s);
  store<i32>(hi + (<usize>pos << 2), idx);
}

/** Move slot `pos` up while it is worse than its parent. */
function siftUp(hs: usize, hi: usize, pos: i32): void {
  const s = load<f32>(hs + (<usize>pos << 2));
  const idx = load<i32>(hi + (<usize>pos << 2));
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    const ps = load<f32>(hs + (<usize>parent << 2));
    const pi = load<i32>(hi + (<usize>parent << 2));
    if (!before(ps, pi, s, idx)) break; // parent already worse or equal
    store<f32>(hs + (<usize>pos << 2), ps);
    store<i32>(hi + (<usize>pos << 2), pi);
    pos = parent;
  }
  store<f32>(hs + (<usize>pos << 2), s);
  store<i32>(hi + (<usize>pos << 2), idx);
}

/** Offer entry (s, i), scanned in increasing index order, to a heap of `size` ≤ k slots; returns the new size. */
@inline
function offer(hs: usize, hi: usize, size: i32, k: i32, s: f32, i: i32): i32 {
  if (size < k) {
    store<f32>(hs + (<usize>size << 2), s);
    store<i32>(hi + (<usize>size << 2), i);
    siftUp(hs, hi, size);
    return size + 1;
  }
  if (before(s, i, load<f32>(hs), load<i32>(hi))) {
    store<f32>(hs, s);
    store<i32>(hi, i);
    siftDown(hs, hi, size, 0);
  }
  return size;
}

/**
 * The k best of scores[0..n) (k ≤ n, checked by the caller), best first,
 * into outIdx (i32 × k) and outScores (f32 × k). The output buffers double as
 * the heap, so no scratch is needed.
 */
export function topKF32(scoresPtr: usize, n: i32, k: i32, outIdx: usize, outScores: usize): void {
  if (k <= 0) return;
  const hs = outScores;
  const hi = outIdx;
  let size = 0;
  let i = 0;
  // Fill the heap with the first k entries.
  for (; i < n && size < k; i++) size = offer(hs, hi, size, k, load<f32>(scoresPtr + (<usize>i << 2)), i);
  // Scalar until aligned to a block of four, then skip blocks with nothing better than the root.
  for (; i < n && (i & 3) != 0; i++) size = offer(hs, hi, size, k, load<f32>(scoresPtr + (<usize>i << 2)), i);
  const n4 = n & ~3;
  for (; i < n4; i += 4) {
    const root = load<f32>(hs);
    const v = v128.load(scoresPtr + (<usize>i << 2));
    // With a numeric root only a strictly larger score can enter (equal ones have a higher index).
    if (root == root && !v128.any_true(f32x4.gt(v, f32x4.splat(root)))) continue;
    for (let j = i; j < i + 4; j++) size = offer(hs, hi, size, k, load<f32>(scoresPtr + (<usize>j << 2)), j);
  }
  for (; i < n; i++) size = offer(hs, hi, size, k, load<f32>(scoresPtr + (<usize>i << 2)), i);
  // Heap sort in place: repeatedly move the worst (root) to the end.
  for (let end = size - 1; end > 0; end--) {
    const s0 = load<f32>(hs);
    const i0 = load<i32>(hi);
    store<f32>(hs, load<f32>(hs + (<usize>end << 2)));
    store<i32>(hi, load<i32>(hi + (<usize>end << 2)));
    store<f32>(hs + (<usize>end << 2), s0);
    store<i32>(hi + (<usize>end << 2), i0);
    siftDown(hs, hi, end, 0);
  }
}
