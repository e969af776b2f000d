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
//   r = len/avgdl; e = (1 − b) + b·r; norm = k1·e
//   c = idf · ((tf·(k1 + 1)) / (tf + norm)); out[d] = out[d] + c
// terms in the given order, postings in the given order. `out` is zeroed
// first. Document indices must be < n (the bindings check).

export function bm25ScoresF32(
  posts: usize, starts: usize, idf: usize, terms: i32,
  lengths: usize, n: i32, avgdl: f32, k1: f32, b: f32, out: usize,
): void {
  memory.fill(out, 0, <usize>n << 2);
  const oneMinusB: f32 = 1.0 - b;
  const k1p1: f32 = k1 + 1.0;
  for (let t = 0; t < terms; t++) {
    const w = load<f32>(idf + (<usize>t << 2));
    const from = load<i32>(starts + (<usize>t << 2));
    const to = load<i32>(starts + (<usize>(t + 1) << 2));
    for (let p = from; p < to; p++) {
      const entry = load<u32>(posts + (<usize>p << 2));
      const d = <usize>(entry >>> 8);
      const tf = <f32>(entry & 255);
      const len = <f32>load<u32>(lengths + (d << 2));
      const norm: f32 = k1 * (oneMinusB + b * (len / avgdl));
      const c: f32 = w * ((tf * k1p1) / (tf + norm));
      const at = out + (d << 2);
      store<f32>(at, load<f32>(at) + c);
    }
  }
}
