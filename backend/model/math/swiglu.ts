// Oracle of wasm/assembly/model/swiglu.ts: out = silu(gate) ⊙ up, silu(g) = g·σ(g).
export function swigluF32(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
}

/** Oracle of `addF32`: y += x (the residual connection). */
export function addF32(y: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) y[i] += x[i];
}
