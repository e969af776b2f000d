// Oracle of the column-major scan (wasm/assembly/column-scores.ts): the
// documented summation order written out as a plain loop, every product and
// sum rounded to f32, so it agrees with the SIMD kernel bit for bit.
import type { Kernels } from "../src/kernels";
import { checkColumnScan } from "../src/retrieval-checks";

export const columnScores: Kernels["columnScores"] = (columns, stride, n, indices, values) => {
  checkColumnScan("columnScores", columns, stride, n, indices, values);
  const f = Math.fround;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < indices.length; k++) s = f(s + f(values[k]! * columns[indices[k]! * stride + i]!));
    out[i] = s;
  }
  return out;
};
