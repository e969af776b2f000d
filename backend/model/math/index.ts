// The reference model's math in plain TS (f32): the "plain JS" forward pass
// of the reference backend, and the oracle the WASM model kernels
// (wasm/assembly/model/) are tested against.
export { matmulF32 } from "./matmul";
export { rmsnormF32 } from "./rmsnorm";
export { ropeF32 } from "./rope";
export { attendF32 } from "./attention";
export { swigluF32, addF32 } from "./swiglu";
