// Attention of `rows` query vectors (the query heads of one GQA group at one
// position) over n supplied keys/values: out = softmax(q·Kᵀ/√d)·V, with the
// row max subtracted before exp. The caller chooses which n entries (causal
// prefix, retained subset, block-restricted window) by where K and V start.
// `scratch` holds n f32 scores. n = 0 writes zeros.

export function attendF32(out: usize, q: usize, k: usize, v: usize, rows: i32, n: i32, d: i32, scratch: usize): void {
  const d4 = d & ~3;
  const scale: f32 = <f32>1 / Mathf.sqrt(<f32>d);
  const dBytes = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const qr = q + <usize>r * dBytes;
    const outr = out + <usize>r * dBytes;
    let max: f32 = -Infinity;
    for (let j = 0; j < n; j++) {
      const kr = k + <usize>j * dBytes;
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i < d4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qr + (<usize>i << 2)), v128.load(kr + (<usize>i << 2))));
      let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; i < d; i++) s += load<f32>(qr + (<usize>i << 2)) * load<f32>(kr + (<usize>i << 2));
      s *= scale;
      store<f32>(scratch + (<usize>j << 2), s);
      if (s > max) max = s;
    }
    let sum: f32 = 0;
    for (let j = 0; j < n; j++) {
      const e = Mathf.exp(load<f32>(scratch + (<usize>j << 2)) - max);
      store<f32>(scratch + (<usize>j << 2), e);
      sum += e;
    }
    memory.fill(outr, 0, dBytes);
    for (let j = 0; j < n; j++) {
      const p = load<f32>(scratch + (<usize>j << 2)) / sum;
      const pv = f32x4.splat(p);
      const vr = v + <usize>j * dBytes;
      let i = 0;
      for (; i < d4; i += 4) {
        const off = <usize>i << 2;
        v128.store(outr + off, f32x4.add(v128.load(outr + off), f32x4.mul(pv, v128.load(vr + off))));
      }
      for (; i < d; i++) {
        const off = <usize>i << 2;
        store<f32>(outr + off, load<f32>(outr + off) + p * load<f32>(vr + off));
      }
    }
  }
}
