// Worker/Durable Object side: the kernels module imported statically
// (workerd refuses to compile WebAssembly from bytes at run time) and
// instantiated once per isolate. Node code uses node-module.ts instead.
//
// workerd runs relaxed SIMD without a flag, so the Worker ships the relaxed
// build (k-means scoring with fused multiply-add, docs/kernels.md); the
// baseline SIMD build (kernels.wasm) is what Node loads, and both pass the
// same oracle suite in Node and in workerd.
import kernelsModule from "../build/kernels.relaxed.wasm";

export { kernelsModule };
/** Which build kernelsModule is (reported by GET /healthz). */
export const KERNELS_BUILD = "relaxed-simd";
import { instantiateKernels, type KernelInstance } from "./instance";
import type { Kernels } from "./kernels";
import { wasmKernelsFromInstance } from "./wasm-kernels";

let instance: KernelInstance | undefined;
let kernels: Kernels | undefined;

export function bundledKernelInstance(): KernelInstance {
  instance ??= instantiateKernels(kernelsModule);
  return instance;
}

/** The typed kernels for code running in workerd. */
export function bundledKernels(): Kernels {
  kernels ??= wasmKernelsFromInstance(bundledKernelInstance());
  return kernels;
}
