// An independent, deliberately naive forward pass over a whole sequence with
// an arbitrary attention mask: allowed(i, j) says whether token i may attend
// to token j. It gathers the allowed keys per query instead of slicing a
// cache, so it shares no bookkeeping with forward.ts. Tests use it as the
// ground truth for "decoding against a subset equals masked full attention"
// and for the profiler's block mask. Plain-TS kernels, clarity over speed.
import { addF32, attendF32, matmulF32, rmsnormF32, ropeF32, swigluF32 } from "./math/index";
import type { ModelWeights } from "./weights";

export interface ReferenceOutput {
  /** tokens × vocab. */
  logits: Float32Array;
  /** Per layer, post-RoPE keys [tokens, kvHeads·headDim]. */
  keys: Float32Array[];
}

export function referenceForward(
  w: ModelWeights,
  tokens: readonly number[],
  positions: readonly number[],
  allowed: (i: number, j: number) => boolean,
): ReferenceOutput {
  const c = w.config, T = tokens.length;
  const { dModel: D, heads: H, kvHeads: Hkv, headDim: hd, ffnDim: F, vocabSize: V } = c;
  const g = H / Hkv;
  const x = new Float32Array(T * D);
  tokens.forEach((id, t) => x.set(w.embed.subarray(id * D, (id + 1) * D), t * D));
  const pos = Int32Array.from(positions);
  const keys: Float32Array[] = [];
  for (const L of w.layers) {
    const h = new Float32Array(T * D);
    rmsnormF32(h, x, L.attnNorm, T, D, c.rmsEps);
    const q = new Float32Array(T * H * hd), k = new Float32Array(T * Hkv * hd), v = new Float32Array(T * Hkv * hd);
    matmulF32(q, h, L.wq, T, D, H * hd);
    matmulF32(k, h, L.wk, T, D, Hkv * hd);
    matmulF32(v, h, L.wv, T, D, Hkv * hd);
    ropeF32(q, pos, T, H, hd, c.ropeTheta);
    ropeF32(k, pos, T, Hkv, hd, c.ropeTheta);
    keys.push(k.slice());
    const att = new Float32Array(T * H * hd);
    for (let i = 0; i < T; i++) {
      const js = [...Array(T).keys()].filter((j) => allowed(i, j));
      for (let kh = 0; kh < Hkv; kh++) {
        const K = new Float32Array(js.length * hd), Vv = new Float32Array(js.length * hd);
        js.forEach((j, n) => {
          K.set(k.subarray((j * Hkv + kh) * hd, (j * Hkv + kh + 1) * hd), n * hd);
          Vv.set(v.subarray((j * Hkv + kh) * hd, (j * Hkv + kh + 1) * hd), n * hd);
        });
        const at = (i * H + kh * g) * hd;
        attendF32(att.subarray(at, at + g * hd), q.subarray(at, at + g * hd), K, Vv, g, js.length, hd);
      }
    }
    const o = new Float32Array(T * D);
    matmulF32(o, att, L.wo, T, H * hd, D);
    addF32(x, o, T * D);
    rmsnormF32(h, x, L.mlpNorm, T, D, c.rmsEps);
    const gate = new Float32Array(T * F), up = new Float32Array(T * F);
    matmulF32(gate, h, L.wGate, T, D, F);
    matmulF32(up, h, L.wUp, T, D, F);
    swigluF32(gate, gate, up, T * F);
    matmulF32(o, gate, L.wDown, T, F, D);
    addF32(x, o, T * D);
  }
  const h = new Float32Array(T * D);
  rmsnormF32(h, x, w.finalNorm, T, D, c.rmsEps);
  const logits = new Float32Array(T * V);
  matmulF32(logits, h, w.lmHead, T, D, V);
  return { logits, keys };
}

/** Causal attention: i sees j ≤ i. */
export const causal = (i: number, j: number): boolean => j <= i;

/**
 * The intended block-restricted mask of EpiCache's layer profiler (docs/architecture.md,
 * EpiCache step 6): token i sees j ≤ i in its own block of `block` tokens only. (The
 * published profiler's mask looks inverted, letting tokens see everything
 * except their block; this is the mask block-wise prefill actually imposes.)
 */
export function blockCausal(block: number): (i: number, j: number) => boolean {
  return (i, j) => j <= i && Math.floor(i / block) === Math.floor(j / block);
}
