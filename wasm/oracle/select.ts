// Oracle for eviction selection (wasm/assembly/select.ts): protected
// positions in every head, then the best remaining entries by a full sort —
// pooled over all heads of the layer (AdaKV) or per head. Order: higher
// score first, NaN below every number, ties to the lower flat index h·n + i.
import type { SelectOptions } from "../src/kernels";
import { checkSelect } from "../src/kv-arguments";

/** Sort comparator over flat indices: best first. */
function byScoreThenIndex(scores: Float32Array): (a: number, b: number) => number {
  return (a, b) => {
    const x = scores[a];
    const y = scores[b];
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
    if (!Number.isNaN(x) && x !== y) return y - x > 0 ? 1 : -1;
    return a - b;
  };
}

export function selectKeep(scores: Float32Array, heads: number, options: SelectOptions): Uint8Array {
  const { n, budget } = checkSelect(scores, heads, options);
  const isProtected = (i: number): boolean => options.protect !== undefined && options.protect[i] !== 0;
  const protectedCount = Array.from({ length: n }, (_, i) => i).filter(isProtected).length;
  const mask = new Uint8Array(heads * n);
  const candidates: number[][] = Array.from({ length: heads }, () => []);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      if (isProtected(i)) mask[h * n + i] = 1;
      else candidates[h].push(h * n + i);
    }
  }
  const groups = options.mode === "pooled" ? [candidates.flat()] : candidates;
  const perGroup = options.mode === "pooled" ? (budget - protectedCount) * heads : budget - protectedCount;
  for (const group of groups) {
    for (const flat of group.sort(byScoreThenIndex(scores)).slice(0, Math.max(0, perGroup))) mask[flat] = 1;
  }
  return mask;
}
