// Similarity scans: one or a few fp32 queries against N row-major fp32 rows.

/** out[i] = dot(query, rows[i]) for i < n; rows are n × dim, row-major. */
export function dotRowsF32(queryPtr: usize, rowsPtr: usize, n: i32, dim: i32, outPtr: usize): void {
  const rowBytes = <usize>dim << 2;
  const dim4 = dim & ~3;
  for (let i = 0; i < n; i++) {
    const row = rowsPtr + <usize>i * rowBytes;
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < dim4; j += 4) {
      const off = <usize>j << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(queryPtr + off), v128.load(row + off)));
    }
    let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; j < dim; j++) {
      const off = <usize>j << 2;
      s += load<f32>(queryPtr + off) * load<f32>(row + off);
    }
    store<f32>(outPtr + (<usize>i << 2), s);
  }
}
