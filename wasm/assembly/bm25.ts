// Okapi BM25 scores of every document for one query, from the query terms'
// postings (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
// BM25 and Beyond", 2009, §3.4):
//
//   out[d] = Σ_t idf_t · tf·(k1 + 1) / (tf + k1·(1 − b + b·len_d/avgdl))
//
// Postings are compressed (wasm/src/bm25-postings.ts, docs/kernels.md): per
// term, bytes posts[starts[t] .. starts[t+1]) hold varint(gap << 1 | tf > 1)
// and then a tf byte when tf > 1; zero bytes between postings are padding.
// Decoding here costs about what copying the packed u32 postings into the
// module cost, for a third of the bytes. The accumulation is a scatter (one
// random write per posting), so it is scalar: SIMD has no scatter.
//
// Operation order (exact, so the plain-TS oracle reproduces it bit for bit),
// every step rounded to f32:
//   once: base = k1·(1 − b); slope = (k1·b)/avgdl; k1p1 = k1 + 1
//   per posting: norm = base + slope·len
//                c = idf · ((tf·k1p1) / (tf + norm)); out[d] = out[d] + c
// terms in the given order, postings in the given order. `out` is zeroed
// first unless `add` is set (a second pass adding more terms' scores to a
// first pass's, durable-objects/selection/turn-ranking.ts). A malformed
// posting (truncated, a zero gap, a varint past 4 bytes, a tf byte below 2,
// a document ≥ n) stops the kernel: it returns that posting's byte offset
// (the binding throws), else -1.

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
    const end = load<i32>(starts + (<usize>(t + 1) << 2));
    let p = load<i32>(starts + (<usize>t << 2));
    let doc: i32 = -1;
    while (p < end) {
      let byte = <u32>load<u8>(posts + <usize>p);
      if (byte == 0) {
        p++;
        continue;
      }
      const start = p;
      let v: u32 = byte;
      p++;
      if (byte & 0x80) {
        // Longer varints (a gap of 64 documents or more): the one-byte case above is most postings.
        v = byte & 0x7f;
        let shift: u32 = 7;
        while (true) {
          if (p >= end || shift > 21) return start;
          byte = <u32>load<u8>(posts + <usize>p);
          p++;
          v |= (byte & 0x7f) << shift;
          shift += 7;
          if (!(byte & 0x80)) break;
        }
      }
      const gap = <i32>(v >> 1);
      let tf: i32 = 1;
      if (v & 1) {
        if (p >= end) return start;
        tf = <i32>load<u8>(posts + <usize>p);
        p++;
        if (tf < 2) return start;
      }
      if (gap == 0 || doc + gap >= n) return start;
      doc += gap;
      const len = <f32>load<i32>(lengths + (<usize>doc << 2));
      const norm: f32 = base + slope * len;
      const tff = <f32>tf;
      const c: f32 = w * ((tff * k1p1) / (tff + norm));
      const at = out + (<usize>doc << 2);
      store<f32>(at, load<f32>(at) + c);
    }
  }
  return -1;
}
