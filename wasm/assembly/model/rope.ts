// Rotary position embedding in place (Su et al. 2021), Llama "rotate half"
// pairing: (x[i], x[i + hd/2]) rotated by pos · θ^(−2i/hd). Keys leave the
// model post-RoPE at their absolute positions and are never re-rotated
// (docs/architecture.md, EpiCache step 4). Angles in f64: positions reach 2^20.

export function ropeF32(x: usize, positions: usize, tokens: i32, heads: i32, headDim: i32, theta: f64): void {
  const half = headDim >> 1;
  for (let t = 0; t < tokens; t++) {
    const pos = <f64>load<i32>(positions + (<usize>t << 2));
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, <f64>(-2 * i) / <f64>headDim);
      const c = <f32>Math.cos(angle), s = <f32>Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = x + ((<usize>(t * heads + h) * headDim) << 2);
        const pa = base + (<usize>i << 2), pb = base + (<usize>(i + half) << 2);
        const a = load<f32>(pa), b = load<f32>(pb);
        store<f32>(pa, a * c - b * s);
        store<f32>(pb, a * s + b * c);
      }
    }
  }
}
