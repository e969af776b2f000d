// The best plain-JS loop for BM25 over postings (wasm/assembly/bm25.ts), the
// "js" side of its benchmark: the same varint decoding, inlined, f64
// arithmetic into a Float32Array, the per-document normaliser computed per
// posting as the kernel does.
import type { Bm25Query } from "../../../wasm/src/kernels";

export function jsBm25Scores(q: Bm25Query, out: Float32Array): void {
  out.fill(0);
  const { posts, starts, idf, lengths, avgDocLength, k1, b } = q;
  const k1p1 = k1 + 1;
  const base = k1 * (1 - b);
  const slope = (k1 * b) / avgDocLength;
  for (let t = 0; t < idf.length; t++) {
    const w = idf[t]!;
    let d = -1;
    for (let p = starts[t]!, end = starts[t + 1]!; p < end;) {
      let byte = posts[p++]!;
      if (byte === 0) continue;
      let v = byte & 0x7f;
      for (let shift = 7; byte & 0x80; shift += 7) {
        byte = posts[p++]!;
        v |= (byte & 0x7f) << shift;
      }
      const tf = v & 1 ? posts[p++]! : 1;
      d += v >>> 1;
      out[d] = out[d]! + (w * tf * k1p1) / (tf + base + slope * lengths[d]!);
    }
  }
}
