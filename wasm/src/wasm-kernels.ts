// `Kernels` backed by the AssemblyScript SIMD module. Works in workerd and Node:
// pass an already-compiled module (static import in the Worker, file in Node).
import type { Kernels } from "./kernels";
import { instantiateKernels, type KernelInstance } from "./instance";
import { retrievalBindings } from "./bindings/retrieval";
import { kvBindings } from "./bindings/kv";
import { lexicalBindings } from "./bindings/lexical";

export function wasmKernelsFromInstance(instance: KernelInstance): Kernels {
  return { ...retrievalBindings(instance), ...lexicalBindings(instance), ...kvBindings(instance) };
}

export function wasmKernels(module: WebAssembly.Module): Kernels {
  return wasmKernelsFromInstance(instantiateKernels(module));
}
