// Entry point of the `model` module (wasm/build/model.wasm): the kernels of
// the reference backend's Llama-architecture forward pass. Pointer-level like
// the `kernels` module; the JS arena (wasm/src/arena.ts) owns allocation.

/** First free byte after static data; the JS arena allocates above it. */
export function heapBase(): usize {
  return __heap_base;
}

export * from "./matmul";
export * from "./rmsnorm";
export * from "./rope";
export * from "./attention";
export * from "./swiglu";
