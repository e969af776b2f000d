// Per-layer KV budgets from layer sensitivities, docs/architecture.md EpiCache step 6
// (arXiv 2509.17396, sensitivity-aware layer-wise budget allocation).
// Contract: wasm/src/kernels.ts; oracle: wasm/oracle/layer-budgets.ts, which
// performs the same f64 operations in the same order, so results are equal.
//
//   ŝ_l = (s_l − min s) / (max s − min s)
//   w_l = (1 − ŝ_l)^α
//   b_l = max(floor(w_l · M · L / Σ w), max(1, floor(M / 4)))
//
// α = 0, or all sensitivities equal, gives every layer M. s_l is a cosine
// between keys under full and block-restricted attention: the layer whose
// keys change most (lowest s) has ŝ = 0, the largest weight, the most entries.

/**
 * sensPtr: L f64 sensitivities; outPtr: L i32 budgets. The binding checks
 * M ≥ 1, M·L < 2^31 and α finite ≥ 0. Returns -1, or the index of the first
 * non-finite sensitivity (nothing written then).
 */
export function allocateLayerBudgets(sensPtr: usize, layers: i32, budget: i32, alpha: f64, outPtr: usize): i32 {
  let lo = Infinity;
  let hi = -Infinity;
  for (let l = 0; l < layers; l++) {
    const s = load<f64>(sensPtr + (<usize>l << 3));
    if (!isFinite(s)) return l;
    lo = min(lo, s);
    hi = max(hi, s);
  }
  if (alpha == 0 || !(hi > lo)) {
    for (let l = 0; l < layers; l++) store<i32>(outPtr + (<usize>l << 2), budget);
    return -1;
  }
  let sumW = 0.0;
  for (let l = 0; l < layers; l++) sumW += weight(load<f64>(sensPtr + (<usize>l << 3)), lo, hi, alpha);
  const M = <f64>budget;
  const L = <f64>layers;
  const least = max(1, budget / 4);
  for (let l = 0; l < layers; l++) {
    const w = weight(load<f64>(sensPtr + (<usize>l << 3)), lo, hi, alpha);
    const b = <i32>Math.floor((w * M * L) / sumW);
    store<i32>(outPtr + (<usize>l << 2), max(b, least));
  }
  return -1;
}

// w = (1 − ŝ)^α; ŝ ∈ [0, 1], so 1 − ŝ ∈ [0, 1] and w ∈ [0, 1] (0^α = 0 for α > 0).
// @ts-ignore: decorator
@inline function weight(s: f64, lo: f64, hi: f64, alpha: f64): f64 {
  return Math.pow(1 - (s - lo) / (hi - lo), alpha);
}
