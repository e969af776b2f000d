// Best plain-JS top-k for the benchmark: a size-k heap in typed arrays with
// the same ranking rule as the kernel (larger first, ties → lower index, NaN
// last); a new score is compared against the heap's worst before any work.

function before(sa: number, ia: number, sb: number, ib: number): boolean {
  if (sa !== sa) return sb !== sb && ia < ib;
  if (sb !== sb) return true;
  return sa > sb || (sa === sb && ia < ib);
}

function siftDown(hs: Float32Array, hi: Int32Array, size: number, pos: number): void {
  const s = hs[pos]!;
  const idx = hi[pos]!;
  for (;;) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    if (child + 1 < size && before(hs[child]!, hi[child]!, hs[child + 1]!, hi[child + 1]!)) child++;
    if (!before(s, idx, hs[child]!, hi[child]!)) break;
    hs[pos] = hs[child]!;
    hi[pos] = hi[child]!;
    pos = child;
  }
  hs[pos] = s;
  hi[pos] = idx;
}

function siftUp(hs: Float32Array, hi: Int32Array, pos: number): void {
  const s = hs[pos]!;
  const idx = hi[pos]!;
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    if (!before(hs[parent]!, hi[parent]!, s, idx)) break;
    hs[pos] = hs[parent]!;
    hi[pos] = hi[parent]!;
    pos = parent;
  }
  hs[pos] = s;
  hi[pos] = idx;
}

/** The k best of scores (k ≤ n), best first. */
export function jsTopK(scores: Float32Array, k: number): { indices: Int32Array; scores: Float32Array } {
  const hs = new Float32Array(k);
  const hi = new Int32Array(k);
  const n = scores.length;
  let size = 0;
  let i = 0;
  for (; i < n && size < k; i++) {
    hs[size] = scores[i]!;
    hi[size] = i;
    siftUp(hs, hi, size++);
  }
  for (; i < n; i++) {
    const s = scores[i]!;
    const root = hs[0]!;
    if (s > root || (root !== root && s === s) ) {
      hs[0] = s;
      hi[0] = i;
      siftDown(hs, hi, k, 0);
    }
  }
  for (let end = size - 1; end > 0; end--) {
    const s0 = hs[0]!;
    const i0 = hi[0]!;
    hs[0] = hs[end]!;
    hi[0] = hi[end]!;
    hs[end] = s0;
    hi[end] = i0;
    siftDown(hs, hi, end, 0);
  }
  return { indices: hi, scores: hs };
}
