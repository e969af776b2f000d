// Oracle of wasm/assembly/bm25.ts: the documented operation order as a plain
// loop, every step rounded to f32, so it agrees with the kernel bit for bit.
import type { Kernels } from "../src/kernels";
import { badPosting, checkBm25Query } from "../src/bm25-checks";
import { visitPostings } from "../src/bm25-postings";

export const bm25Scores: Kernels["bm25Scores"] = (q, into, add = false) => {
  checkBm25Query(q, into, add);
  const f = Math.fround;
  const n = q.lengths.length;
  // Every posting is checked before anything is written, so a refused query leaves `into` as it was (as the kernel's copy-back does).
  for (let t = 0; t < q.idf.length; t++) {
    const bad = visitPostings(q.posts, q.starts[t]!, q.starts[t + 1]!, n, () => {});
    if (bad >= 0) throw badPosting(q, bad);
  }
  const out = into ? into.subarray(0, n) : new Float32Array(n);
  if (!add) out.fill(0);
  const avgdl = f(q.avgDocLength), k1 = f(q.k1), b = f(q.b);
  const base = f(k1 * f(1 - b)), slope = f(f(k1 * b) / avgdl), k1p1 = f(k1 + 1);
  for (let t = 0; t < q.idf.length; t++) {
    const w = q.idf[t]!;
    visitPostings(q.posts, q.starts[t]!, q.starts[t + 1]!, n, (d, tf) => {
      const norm = f(base + f(slope * q.lengths[d]!));
      const c = f(w * f(f(tf * k1p1) / f(tf + norm)));
      out[d] = f(out[d]! + c);
    });
  }
  return out;
};
