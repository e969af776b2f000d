// Oracle of wasm/assembly/model/matmul.ts: y[t, o] = Σ_i x[t, i] · w[o, i]
// (x: tokens × inDim, w: outDim × inDim as stored by Llama projections).
export function matmulF32(y: Float32Array, x: Float32Array, w: Float32Array, tokens: number, inDim: number, outDim: number): void {
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i] * w[o * inDim + i];
      y[t * outDim + o] = s;
    }
  }
}
