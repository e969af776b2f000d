// ModelOps over the plain-TS oracles (backend/model/math/): the "plain JS"
// forward pass, used as the oracle of the WASM one and as the benchmark baseline.
import { addF32, attendF32, matmulF32, rmsnormF32, ropeF32, swigluF32 } from "./math/index";
import type { ModelOps } from "./ops";

export function jsOps(initialFloats = 1 << 16): ModelOps {
  let buf = new ArrayBuffer(initialFloats * 4);
  let f32 = new Float32Array(buf);
  let i32 = new Int32Array(buf);
  let top = 0;
  const v = (at: number, n: number) => f32.subarray(at, at + n);
  return {
    kind: "js",
    alloc(n) {
      const at = top;
      top = (at + Math.max(0, n) + 3) & ~3;
      if (top > f32.length) {
        const next = new ArrayBuffer(Math.max(top, f32.length * 2) * 4);
        new Float32Array(next).set(f32);
        buf = next;
        f32 = new Float32Array(buf);
        i32 = new Int32Array(buf);
      }
      return at;
    },
    mark: () => top,
    reset(m) {
      top = m;
    },
    f32: () => f32,
    i32: () => i32,
    matmul: (y, x, w, t, i, o) => matmulF32(v(y, t * o), v(x, t * i), v(w, o * i), t, i, o),
    rmsnorm: (y, x, w, r, d, eps) => rmsnormF32(v(y, r * d), v(x, r * d), v(w, d), r, d, eps),
    rope: (x, p, t, h, hd, theta) => ropeF32(v(x, t * h * hd), i32.subarray(p, p + t), t, h, hd, theta),
    attend: (out, q, k, vv, r, n, d) => attendF32(v(out, r * d), v(q, r * d), v(k, n * d), v(vv, n * d), r, n, d),
    swiglu: (out, g, u, n) => swigluF32(v(out, n), v(g, n), v(u, n), n),
    add: (y, x, n) => addF32(v(y, n), v(x, n), n),
  };
}
