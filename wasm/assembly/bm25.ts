// Okapi BM25 scores of every document for one query, from the query terms'
// postings (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
// BM25 and Beyond", 2009, §3.4):
//
//   out[d] = Σ_t idf_t · tf·(k1 + 1) / (tf + k1·(1 − b + b·len_d/avgdl))
//
// A posting is one u32: document index << 8 | tf (tf clamped to 1..255 by
// the index; durable-objects/selection/lexical-index.ts). Term t's postings
// are posts[starts[t] .. starts[t+1]). The accumulation is a scatter (one
// random write per posting), so it is scalar: SIMD has no scatter.
//
// Operation order (exact, so the plain-TS oracle reproduces it bit for bit),
// every step rounded to f32:
//   once: base = k1·(1 − b); slope = (k1·b)/avgdl; k1p1 = k1 + 1
//   per posting: norm = base + slope·len
//                c = idf · ((tf·k1p1) / (tf + norm)); out[d] = out[d] + c
// terms in the given order, postings in the given order. `out` is zeroed
// first unless `add` is set (a second pass adding more terms' scores to a
// first pass's, durable-objects/selection/turn-ranking.ts). A posting naming a document ≥ n, or with tf 0, stops the kernel:
// it returns that posting's index (the binding throws), else -1. Checking
// here costs a compare per posting; checking in JS cost as much as scoring.

export function bm25ScoresF32(
  posts: usize, starts: usize, idf: usize, terms: i32,
  lengths: usize, n: i32, avgdl: f32, k1: f32, b: f32, out: usize, add: i32,
): i32 {
  if (!add) memory.fill(out, 0, <usize>n << 2);
  const base: f32 = k1 * (1.0 - b);
  const slope: f32 = (k1 * b) / avgdl;
  const k1p1: f32 = k1 + 1.0;
  for (let t = 0; t < terms; t++) {
    const w = load<f32>(idf + (<usize>t << 2));
    const from = load<i32>(starts + (<usize>t << 2));
    const to = load<i32>(starts + (<usize>(t + 1) << 2));
    for (let p = from; p < to; p++) {
      const entry = load<u32>(posts + (<usize>p << 2));
      const d = <usize>(entry >>> 8);
      if (d >= <usize>n || (entry & 255) == 0) return p;
      const tf = <f32>(<i32>(entry & 255));
      const len = <f32>load<i32>(lengths + (d << 2));
      const norm: f32 = base + slope * len;
      const c: f32 = w * ((tf * k1p1) / (tf + norm));
      const at = out + (d << 2);
      store<f32>(at, load<f32>(at) + c);
    }
  }
  return -1;
}
