// Argument checks of bm25Scores, shared by the WASM binding and the oracle
// so both reject the same inputs with the same message, and of the two
// Bm25Scorers. Postings are checked
// while they are decoded (a few compares each), not in a separate pass.
import type { Bm25Query } from "./kernels";

export function checkBm25Query(q: Bm25Query, out?: Float32Array, add = false): void {
  const terms = q.idf.length;
  if (add && !out) throw new RangeError("bm25Scores: add needs an out buffer to add to");
  if (out && out.length < q.lengths.length) throw new RangeError(`bm25Scores: out holds ${out.length} scores, need ${q.lengths.length}`);
  if (q.starts.length !== terms + 1) throw new RangeError(`bm25Scores: ${q.starts.length} starts for ${terms} terms (need terms + 1)`);
  if (q.starts[0] !== 0 || q.starts[terms] !== q.posts.length) throw new RangeError(`bm25Scores: starts must run from 0 to posts.length (${q.posts.length})`);
  for (let t = 0; t < terms; t++) if (q.starts[t + 1]! < q.starts[t]!) throw new RangeError(`bm25Scores: starts decrease at term ${t}`);
  if (!(q.avgDocLength > 0) || !Number.isFinite(q.avgDocLength)) throw new RangeError(`bm25Scores: avgDocLength must be positive, got ${q.avgDocLength}`);
  if (!(q.k1 >= 0) || !(q.b >= 0 && q.b <= 1)) throw new RangeError(`bm25Scores: need k1 ≥ 0 and 0 ≤ b ≤ 1, got k1 ${q.k1}, b ${q.b}`);
}

/** The error for the posting at byte p: malformed, or naming a document past the last (the kernel and the oracle stop at the first). */
export function badPosting(q: Bm25Query, p: number): RangeError {
  return new RangeError(`bm25Scores: the posting at byte ${p} is malformed or names a document past the last of ${q.lengths.length} (wasm/src/bm25-postings.ts)`);
}

/** A Bm25Scorer's argument checks (both implementations: ResidentBm25 and copyingBm25Scorer). `count`: documents of its last scores, −1 for none. */
export function checkScorerAdd(n: number, count: number): void {
  if (n !== count) throw new RangeError(`bm25 scorer: add needs the last scores of the same ${n} documents (have ${count < 0 ? "none" : count})`);
}
export function checkScorerDocuments(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bm25 scorer: document count must be a non-negative integer, got ${n}`);
}
export function checkScorerTopK(count: number, k: number, max: number): void {
  if (count < 0) throw new RangeError("bm25 scorer: no scores to rank (score a query first)");
  if (k > max) throw new RangeError(`bm25 scorer: top-k of at most ${max}, asked ${k}`);
}
