// Worker/Durable Object side: the kernels module imported statically
// (workerd refuses to compile WebAssembly from bytes at run time) and
// instantiated once per isolate. Node code uses node-module.ts instead.
import kernelsModule from "../build/kernels.wasm";
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
