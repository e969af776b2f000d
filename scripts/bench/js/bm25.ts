// The best plain-JS loop for BM25 over postings (wasm/assembly/bm25.ts), the
// "js" side of its benchmark: f64 arithmetic into a Float32Array, the
// per-document normaliser computed per posting as the kernel does.
import type { Bm25Query } from "../../../wasm/src/kernels";

export function jsBm25Scores(q: Bm25Query, out: Float32Array): void {
  out.fill(0);
  const { posts, starts, idf, lengths, avgDocLength, k1, b } = q;
  const k1p1 = k1 + 1;
  const base = k1 * (1 - b);
  const slope = (k1 * b) / avgDocLength;
  for (let t = 0; t < idf.length; t++) {
    const w = idf[t]!;
    for (let p = starts[t]!, end = starts[t + 1]!; p < end; p++) {
      const e = posts[p]!;
      const d = e >>> 8;
      const tf = e & 255;
      out[d] = out[d]! + (w * tf * k1p1) / (tf + base + slope * lengths[d]!);
    }
  }
}
