// Best plain-JS attention scoring for one KV head (EpiCache's max reduce):
// per query row, dot products with a 4-way unrolled inner loop, the row max,
// Math.exp, then the normalised row folded into the per-key max. Scratch
// rows are preallocated by the caller.

export function jsAttentionMax(q: Float32Array, k: Float32Array, d: number, out: Float32Array, row: Float64Array): void {
  const nq = q.length / d;
  const n = k.length / d;
  const scale = 1 / Math.sqrt(d);
  out.fill(0);
  for (let r = 0; r < nq; r++) {
    const qo = r * d;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const ko = i * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 4 <= d; j += 4) {
        s0 += q[qo + j]! * k[ko + j]!;
        s1 += q[qo + j + 1]! * k[ko + j + 1]!;
        s2 += q[qo + j + 2]! * k[ko + j + 2]!;
        s3 += q[qo + j + 3]! * k[ko + j + 3]!;
      }
      for (; j < d; j++) s0 += q[qo + j]! * k[ko + j]!;
      const logit = (s0 + s1 + s2 + s3) * scale;
      row[i] = logit;
      if (logit > max) max = logit;
    }
    if (!Number.isFinite(max)) throw new RangeError(`attention: row ${r} overflows`);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = Math.exp(row[i]! - max);
      row[i] = p;
      sum += p;
    }
    const inv = 1 / sum;
    for (let i = 0; i < n; i++) {
      const p = row[i]! * inv;
      if (p > out[i]!) out[i] = p;
    }
  }
}
