// ModelOps over the AssemblyScript SIMD kernels of wasm/build/model.wasm.
// Offsets are f32 element indices into linear memory (byte pointer = 4·offset).
import { instantiateKernels } from "../../wasm/src/instance";
import type { ModelOps } from "./ops";

/** Raw exports of wasm/assembly/model/index.ts. */
interface ModelExports {
  matmulF32(y: number, x: number, w: number, tokens: number, inDim: number, outDim: number): void;
  rmsnormF32(y: number, x: number, w: number, rows: number, dim: number, eps: number): void;
  ropeF32(x: number, positions: number, tokens: number, heads: number, headDim: number, theta: number): void;
  attendF32(out: number, q: number, k: number, v: number, rows: number, n: number, d: number, scratch: number): void;
  swigluF32(out: number, gate: number, up: number, n: number): void;
  addF32(y: number, x: number, n: number): void;
}

export function wasmOps(module: WebAssembly.Module): ModelOps {
  const { exports, arena } = instantiateKernels(module);
  const k = exports as unknown as ModelExports;
  const memory = exports.memory;
  let f32 = new Float32Array(memory.buffer);
  let i32 = new Int32Array(memory.buffer);
  const fresh = () => {
    if (f32.buffer !== memory.buffer) {
      f32 = new Float32Array(memory.buffer);
      i32 = new Int32Array(memory.buffer);
    }
  };
  return {
    kind: "wasm",
    alloc(n) {
      const at = arena.alloc(n * 4) >> 2;
      fresh();
      return at;
    },
    mark: () => arena.mark() >> 2,
    reset: (m) => arena.reset(m * 4),
    f32: () => (fresh(), f32),
    i32: () => (fresh(), i32),
    matmul: (y, x, w, t, i, o) => k.matmulF32(y * 4, x * 4, w * 4, t, i, o),
    rmsnorm: (y, x, w, r, d, eps) => k.rmsnormF32(y * 4, x * 4, w * 4, r, d, eps),
    rope: (x, p, t, h, hd, theta) => k.ropeF32(x * 4, p * 4, t, h, hd, theta),
    attend(out, q, kk, v, r, n, d) {
      const m = arena.mark();
      const scratch = arena.alloc(n * 4);
      k.attendF32(out * 4, q * 4, kk * 4, v * 4, r, n, d, scratch);
      arena.reset(m);
    },
    swiglu: (out, g, u, n) => k.swigluF32(out * 4, g * 4, u * 4, n),
    add: (y, x, n) => k.addF32(y * 4, x * 4, n),
  };
}
