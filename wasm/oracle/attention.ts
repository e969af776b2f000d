// Oracle for attention scoring of one KV head (wasm/assembly/attention.ts):
// softmax(q·kᵀ/√d) per query row with the row max subtracted, then max over
// rows (EpiCache), mean + max-pool (SnapKV) or a running sum (H2O). Dot
// products and the softmax run in f64 and are rounded to fp32 where the
// kernel stores fp32, so the two agree to ≈1e-6 relative, not bit for bit
// (the kernel sums in another order and evaluates exp by a polynomial).
import type { AttentionReduce } from "../src/kernels";
import { checkAttentionShape, logitOverflowError, poolWidth } from "../src/kv-arguments";

const f32 = Math.fround;

/** Softmax of q row r over all keys, as fp32 probabilities. */
function attentionRow(kernel: string, q: Float32Array, k: Float32Array, d: number, r: number, n: number): Float32Array {
  const scale = f32(1 / Math.sqrt(d));
  const logits = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += q[r * d + j] * k[i * d + j];
    logits[i] = f32(f32(dot) * scale);
  }
  const max = logits.reduce((m, x) => Math.max(m, x), -Infinity);
  if (!Number.isFinite(max)) throw logitOverflowError(kernel, r);
  const weights = Array.from(logits, (x) => Math.exp(x - max));
  const sum = weights.reduce((s, w) => s + w, 0);
  return Float32Array.from(weights, (w) => w / sum);
}

/** out[i] = max of src[j] over the window |j − i| ≤ width/2 cut at the edges. */
export function maxPool1d(src: Float32Array, width: number): Float32Array {
  const r = width >> 1;
  return src.map((_, i) => {
    let m = -Infinity;
    for (let j = Math.max(0, i - r); j <= Math.min(src.length - 1, i + r); j++) m = Math.max(m, src[j]);
    return m;
  });
}

export function attentionScores(q: Float32Array, k: Float32Array, d: number, reduce: AttentionReduce): Float32Array {
  const pool = poolWidth(reduce);
  const { nq, n } = checkAttentionShape("attentionScores", q, k, d);
  const out = new Float32Array(n);
  if (n === 0) return out; // no keys: nothing to score
  for (let r = 0; r < nq; r++) {
    const p = attentionRow("attentionScores", q, k, d, r, n);
    for (let i = 0; i < n; i++) out[i] = reduce.kind === "max" ? Math.max(out[i], p[i]) : out[i] + p[i];
  }
  if (reduce.kind === "max" || nq === 0) return out;
  const mean = out.map((s) => s / nq);
  return pool > 1 ? maxPool1d(mean, pool) : mean;
}

export function accumulateAttention(acc: Float32Array, q: Float32Array, k: Float32Array, d: number): void {
  const { nq, n } = checkAttentionShape("accumulateAttention", q, k, d);
  if (acc.length !== n) throw new RangeError(`accumulateAttention: acc has length ${acc.length}, expected n = ${n}`);
  if (n === 0) return;
  const rows = Array.from({ length: nq }, (_, r) => attentionRow("accumulateAttention", q, k, d, r, n));
  // all rows first: a failing row leaves acc untouched, as in the kernel binding
  for (const p of rows) for (let i = 0; i < n; i++) acc[i] = f32(acc[i] + p[i]);
}
