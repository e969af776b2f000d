// The kernels module, imported statically (workerd cannot compile WASM from
// bytes) and instantiated once per isolate.
import kernelsModule from "../wasm/build/kernels.wasm";
import { instantiateKernels, type KernelInstance } from "../wasm/src/instance";

let instance: KernelInstance | undefined;

export function kernelInstance(): KernelInstance {
  instance ??= instantiateKernels(kernelsModule);
  return instance;
}
