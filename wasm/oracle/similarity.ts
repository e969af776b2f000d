// Oracles for the similarity scans (wasm/assembly/similarity.ts): plain
// loops in f64, rounded to f32 once per score.
import type { Kernels } from "../src/kernels";
import { checkQuery, rowCount } from "../src/retrieval-checks";

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[aOff + j]! * b[bOff + j]!;
  return s;
}

export const dotScores: Kernels["dotScores"] = (query, rows, dim) => {
  const n = rowCount("dotScores", rows, dim);
  checkQuery("dotScores", query, dim);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dot(query, 0, rows, i * dim, dim);
  return out;
};

export const cosineScores: Kernels["cosineScores"] = (query, rows, dim) => {
  const n = rowCount("cosineScores", rows, dim);
  checkQuery("cosineScores", query, dim);
  const qNorm = Math.sqrt(dot(query, 0, query, 0, dim));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const denom = qNorm * Math.sqrt(dot(rows, i * dim, rows, i * dim, dim));
    out[i] = denom === 0 ? 0 : dot(query, 0, rows, i * dim, dim) / denom;
  }
  return out;
};

export const dotScoresBatch: Kernels["dotScoresBatch"] = (queries, rows, dim) => {
  const n = rowCount("dotScoresBatch", rows, dim);
  const nq = rowCount("dotScoresBatch: queries", queries, dim);
  const out = new Float32Array(nq * n);
  for (let q = 0; q < nq; q++) {
    for (let i = 0; i < n; i++) out[q * n + i] = dot(queries, q * dim, rows, i * dim, dim);
  }
  return out;
};
