// Oracle for per-layer budgets (wasm/assembly/layer-budgets.ts),
// docs/architecture.md, EpiCache step 6: ŝ = (s − min)/(max − min), w = (1 − ŝ)^α,
// b_l = floor(w_l·M·L/Σw) floored at max(1, floor(M/4)); α = 0 or equal
// sensitivities give every layer M. Same f64 operations in the same order as
// the kernel, so the integers agree exactly.
import { checkLayerBudgets } from "../src/kv-arguments";

export function allocateLayerBudgets(sensitivity: Float64Array, budget: number, alpha: number): Int32Array {
  checkLayerBudgets(sensitivity, budget, alpha);
  const layers = sensitivity.length;
  const lo = Math.min(...sensitivity);
  const hi = Math.max(...sensitivity);
  if (alpha === 0 || !(hi > lo)) return new Int32Array(layers).fill(budget);
  const weights = Array.from(sensitivity, (s) => Math.pow(1 - (s - lo) / (hi - lo), alpha));
  const sum = weights.reduce((acc, w) => acc + w, 0);
  const least = Math.max(1, Math.floor(budget / 4));
  return Int32Array.from(weights, (w) => Math.max(Math.floor((w * budget * layers) / sum), least));
}
