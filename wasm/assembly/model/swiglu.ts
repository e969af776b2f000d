// SwiGLU activation (Shazeer 2020) as Llama uses it: out = silu(gate) ⊙ up,
// silu(g) = g / (1 + e^(−g)). Plus the residual add, y += x.

export function swigluF32(out: usize, gate: usize, up: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const g = load<f32>(gate + off);
    store<f32>(out + off, (g / (<f32>1 + Mathf.exp(-g))) * load<f32>(up + off));
  }
}

export function addF32(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, f32x4.add(v128.load(y + off), v128.load(x + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(y + off, load<f32>(y + off) + load<f32>(x + off));
  }
}
