// Per-layer sensitivity to block-wise prefill (docs/architecture.md, EpiCache step 6):
// s_l = mean, over KV heads, windows and tokens, of the cosine between a
// token's post-RoPE key under full causal attention and under the
// block-restricted mask (token t sees only tokens of its own block of B,
// backend/model/reference.ts blockCausal). Only tokens after the first block
// count: inside the first block both masks are identical. (The published
// profiler's mask looks inverted; this is the intended one, tested on the
// tiny model in test/node/backend-profile.test.ts.)
import type { Model } from "../model/forward";

export interface SensitivityProfile {
  /** Per layer, mean cosine (1 = keys unaffected by block-restricted attention). */
  sensitivity: number[];
  /** Per layer, per KV head, mean cosine. */
  perHead: number[][];
  /** Tokens that contributed (outside the first block of each window). */
  tokens: number;
}

export function profileSensitivity(model: Model, windows: readonly (readonly number[])[], blockSize: number): SensitivityProfile {
  const c = model.config, hd = c.headDim;
  const sums = Array.from({ length: c.layers }, () => new Float64Array(c.kvHeads));
  let counted = 0;
  for (const tokens of windows) {
    if (tokens.length <= blockSize) continue;
    const positions = tokens.map((_, i) => i);
    const full = model.forward({ tokens, positions, logits: "none" }).kv;
    const block = model.forward({ tokens, positions, logits: "none", blockSize }).kv;
    for (let l = 0; l < c.layers; l++)
      for (let h = 0; h < c.kvHeads; h++)
        for (let t = blockSize; t < tokens.length; t++)
          sums[l][h] += cosine(full[l][h].keys.subarray(t * hd, (t + 1) * hd), block[l][h].keys.subarray(t * hd, (t + 1) * hd));
    counted += tokens.length - blockSize;
  }
  const perHead = sums.map((row) => Array.from(row, (s) => (counted ? s / counted : NaN)));
  return { sensitivity: perHead.map((row) => row.reduce((a, b) => a + b, 0) / row.length), perHead, tokens: counted };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}
