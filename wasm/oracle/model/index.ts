// Plain-TS oracles of the model kernels (wasm/assembly/model/). Used by the
// oracle tests and as the "plain JS" forward pass of the reference backend.
export { matmulF32 } from "./matmul";
export { rmsnormF32 } from "./rmsnorm";
export { ropeF32 } from "./rope";
export { attendF32 } from "./attention";
export { swigluF32, addF32 } from "./swiglu";
