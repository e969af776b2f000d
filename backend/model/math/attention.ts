// Oracle of wasm/assembly/model/attention.ts: `rows` query vectors (one GQA
// group at one position) attend over n keys/values: out = softmax(q·Kᵀ/√d)·V,
// max-subtracted. n = 0 yields zeros (nothing to attend to).
export function attendF32(out: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, rows: number, n: number, d: number): void {
  const scale = 1 / Math.sqrt(d);
  const p = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += q[r * d + i] * k[j * d + i];
      p[j] = Math.fround(s * scale);
      if (p[j] > max) max = p[j];
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += p[j] = Math.exp(p[j] - max);
    for (let i = 0; i < d; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += p[j] * v[j * d + i];
      out[r * d + i] = n === 0 ? 0 : acc / sum;
    }
  }
}
