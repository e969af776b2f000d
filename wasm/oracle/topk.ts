// Oracle for top-k (wasm/assembly/topk.ts): sort every index by the ranking
// rule and keep the first k (of those ranking after `after`, when given).
import type { Kernels } from "../src/kernels";
import { clipTopK } from "../src/retrieval-checks";

/** Negative when entry a ranks before entry b: larger score, then lower index; NaN last. */
export function compareRanked(sa: number, ia: number, sb: number, ib: number): number {
  const aNaN = Number.isNaN(sa);
  const bNaN = Number.isNaN(sb);
  if (aNaN !== bNaN) return aNaN ? 1 : -1;
  if (!aNaN && sa !== sb) return sa > sb ? -1 : 1;
  return ia - ib;
}

export const topK: Kernels["topK"] = (scores, k, after) => {
  const kk = clipTopK(k, scores.length);
  const order = Array.from(scores.keys())
    // The kernel reads after.score as f32, as it reads the scores.
    .filter((i) => !after || compareRanked(scores[i]!, i, Math.fround(after.score), after.index) > 0)
    .sort((a, b) => compareRanked(scores[a]!, a, scores[b]!, b));
  const indices = Int32Array.from(order.slice(0, kk));
  const out = new Float32Array(indices.length);
  indices.forEach((idx, r) => (out[r] = scores[idx]!));
  return { indices, scores: out };
};
