// y[t, o] = Σ_i x[t, i] · w[o, i]: every projection of the reference model
// (x: tokens × inDim, w: outDim × inDim, y: tokens × outDim; f32, row-major).
// Four tokens share each loaded weight vector, so prefill reads the weights
// once per four tokens; leftover tokens (decode: tokens = 1) run a SIMD
// matvec over four weight rows at a time.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export function matmulF32(y: usize, x: usize, w: usize, tokens: i32, inDim: i32, outDim: i32): void {
  const in4 = inDim & ~3;
  const rowBytes = <usize>inDim << 2;
  let t = 0;
  for (; t + 4 <= tokens; t += 4) {
    const x0 = x + <usize>t * rowBytes;
    const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
    for (let o = 0; o < outDim; o++) {
      const wr = w + <usize>o * rowBytes;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let i = 0;
      for (; i < in4; i += 4) {
        const off = <usize>i << 2;
        const wv = v128.load(wr + off);
        a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(x0 + off)));
        a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(x1 + off)));
        a2 = f32x4.add(a2, f32x4.mul(wv, v128.load(x2 + off)));
        a3 = f32x4.add(a3, f32x4.mul(wv, v128.load(x3 + off)));
      }
      let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      for (; i < inDim; i++) {
        const off = <usize>i << 2;
        const wi = load<f32>(wr + off);
        s0 += wi * load<f32>(x0 + off);
        s1 += wi * load<f32>(x1 + off);
        s2 += wi * load<f32>(x2 + off);
        s3 += wi * load<f32>(x3 + off);
      }
      const yo = y + ((<usize>t * outDim + o) << 2);
      const yStride = <usize>outDim << 2;
      store<f32>(yo, s0);
      store<f32>(yo + yStride, s1);
      store<f32>(yo + 2 * yStride, s2);
      store<f32>(yo + 3 * yStride, s3);
    }
  }
  for (; t < tokens; t++) matvecF32(y + ((<usize>t * outDim) << 2), x + <usize>t * rowBytes, w, inDim, outDim);
}

/** y[o] = w[o, :] · x for one token: four weight rows at a time share each x load and give four independent add chains. */
function matvecF32(y: usize, x: usize, w: usize, inDim: i32, outDim: i32): void {
  const in4 = inDim & ~3;
  const rowBytes = <usize>inDim << 2;
  let o = 0;
  for (; o + 4 <= outDim; o += 4) {
    const w0 = w + <usize>o * rowBytes;
    const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let i = 0;
    for (; i < in4; i += 4) {
      const off = <usize>i << 2;
      const xv = v128.load(x + off);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + off), xv));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + off), xv));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(w2 + off), xv));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(w3 + off), xv));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (; i < inDim; i++) {
      const off = <usize>i << 2;
      const xi = load<f32>(x + off);
      s0 += load<f32>(w0 + off) * xi;
      s1 += load<f32>(w1 + off) * xi;
      s2 += load<f32>(w2 + off) * xi;
      s3 += load<f32>(w3 + off) * xi;
    }
    store<f32>(y + (<usize>o << 2), s0);
    store<f32>(y + (<usize>(o + 1) << 2), s1);
    store<f32>(y + (<usize>(o + 2) << 2), s2);
    store<f32>(y + (<usize>(o + 3) << 2), s3);
  }
  for (; o < outDim; o++) {
    const wr = w + <usize>o * rowBytes;
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i < in4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(wr + (<usize>i << 2)), v128.load(x + (<usize>i << 2))));
    let s = hsum(acc);
    for (; i < inDim; i++) s += load<f32>(wr + (<usize>i << 2)) * load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>o << 2), s);
  }
}
