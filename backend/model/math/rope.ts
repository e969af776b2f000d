// Oracle of wasm/assembly/model/rope.ts: rotary position embedding in place,
// Llama "rotate half" pairing (i, i + hd/2) with frequency θ^(−2i/hd).
// Angles are computed in f64: positions reach 2^20 and f32 would lose phase.
export function ropeF32(x: Float32Array, positions: Int32Array, tokens: number, heads: number, headDim: number, theta: number): void {
  const half = headDim >> 1;
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = positions[t] * Math.pow(theta, (-2 * i) / headDim);
        const c = Math.fround(Math.cos(angle)), s = Math.fround(Math.sin(angle));
        const a = x[base + i], b = x[base + i + half];
        x[base + i] = a * c - b * s;
        x[base + i + half] = a * s + b * c;
      }
    }
  }
}
