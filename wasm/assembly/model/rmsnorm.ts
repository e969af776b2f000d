// RMSNorm (Llama): y = x / √(mean(x²) + eps) ⊙ w, per row of `dim` values.

export function rmsnormF32(y: usize, x: usize, w: usize, rows: i32, dim: i32, eps: f32): void {
  const d4 = dim & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * dim) << 2);
    const yr = y + ((<usize>r * dim) << 2);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i < d4; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let ss = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; i < dim; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      ss += v * v;
    }
    const inv: f32 = <f32>1 / Mathf.sqrt(ss / <f32>dim + eps);
    const invv = f32x4.splat(inv);
    i = 0;
    for (; i < d4; i += 4) {
      const off = <usize>i << 2;
      v128.store(yr + off, f32x4.mul(f32x4.mul(v128.load(xr + off), invv), v128.load(w + off)));
    }
    for (; i < dim; i++) {
      const off = <usize>i << 2;
      store<f32>(yr + off, load<f32>(xr + off) * inv * load<f32>(w + off));
    }
  }
}
