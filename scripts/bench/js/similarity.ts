// The best plain-JS loops we could write for the similarity scans, the
// "js" side of the benchmark (not the clarity-first oracle): typed arrays,
// several rows per pass so each query element is read once per pass,
// independent accumulators, manual unrolling. Verified against the oracle
// in test/node/kernels-retrieval-bench.test.ts.

/**
 * out[i] = q · rows[i] for i < n. Eight rows per pass, one accumulator each:
 * measured fastest of 1 row × 4/8 accumulators and 4/6/8/12/16 rows per pass
 * (V8 keeps eight doubles plus q[j] in registers; more rows spill).
 */
export function jsDotScores(q: Float32Array, rows: Float32Array, n: number, dim: number, out: Float32Array): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const b0 = i * dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let j = 0; j < dim; j++) {
      const qj = q[j]!;
      const b = b0 + j;
      s0 += qj * rows[b]!;
      s1 += qj * rows[b + dim]!;
      s2 += qj * rows[b + 2 * dim]!;
      s3 += qj * rows[b + 3 * dim]!;
      s4 += qj * rows[b + 4 * dim]!;
      s5 += qj * rows[b + 5 * dim]!;
      s6 += qj * rows[b + 6 * dim]!;
      s7 += qj * rows[b + 7 * dim]!;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
    out[i + 4] = s4;
    out[i + 5] = s5;
    out[i + 6] = s6;
    out[i + 7] = s7;
  }
  for (; i < n; i++) {
    const b = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += q[j]! * rows[b + j]!;
    out[i] = s;
  }
}

/** out[i] = cos(q, rows[i]); 0 where either norm is 0. */
export function jsCosineScores(q: Float32Array, rows: Float32Array, n: number, dim: number, out: Float32Array): void {
  let qq = 0;
  for (let j = 0; j < dim; j++) qq += q[j]! * q[j]!;
  const qn = Math.sqrt(qq);
  for (let i = 0; i < n; i++) {
    const b = i * dim;
    let d0 = 0, d1 = 0, r0 = 0, r1 = 0;
    let j = 0;
    for (; j + 1 < dim; j += 2) {
      const x0 = rows[b + j]!;
      const x1 = rows[b + j + 1]!;
      d0 += q[j]! * x0;
      d1 += q[j + 1]! * x1;
      r0 += x0 * x0;
      r1 += x1 * x1;
    }
    if (j < dim) {
      const x = rows[b + j]!;
      d0 += q[j]! * x;
      r0 += x * x;
    }
    const denom = qn * Math.sqrt(r0 + r1);
    out[i] = denom === 0 ? 0 : (d0 + d1) / denom;
  }
}
