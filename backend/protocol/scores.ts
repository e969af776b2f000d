// EpiCache scoring (docs/architecture.md, EpiCache step 5; arXiv 2509.17396 §3): for layer l and
// KV head h with cached keys K (the prompt's own tokens excluded),
// A = softmax(Q·Kᵀ/√d) over K for every query row of the representative
// prompt and every query head of h's GQA group; a key's score is the max of
// A over those rows. The backend returns these so the edge can evict.
import type { ModelConfig } from "../model/config";
import type { KvCache } from "../model/kv";

/**
 * queries: per layer [heads, P, headDim] post-RoPE (Model.forward captureQueries).
 * Returns per layer, per KV head, one score per cached entry of that head.
 */
export function maxAttentionScores(c: ModelConfig, queries: Float32Array[], cache: KvCache): Float32Array[][] {
  const hd = c.headDim, g = c.heads / c.kvHeads, scale = 1 / Math.sqrt(hd);
  return cache.map((layer, l) => {
    const Q = queries[l];
    const P = Q.length / (c.heads * hd);
    return layer.map((head, kh) => {
      const n = head.positions.length, K = head.keys;
      const best = new Float32Array(n);
      const s = new Float64Array(n);
      for (let qh = kh * g; qh < (kh + 1) * g; qh++) {
        for (let t = 0; t < P; t++) {
          const q = (qh * P + t) * hd;
          let max = -Infinity;
          for (let j = 0; j < n; j++) {
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += Q[q + i] * K[j * hd + i];
            s[j] = dot * scale;
            if (s[j] > max) max = s[j];
          }
          let sum = 0;
          for (let j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
          for (let j = 0; j < n; j++) best[j] = Math.max(best[j], s[j] / sum);
        }
      }
      return best;
    });
  });
}
