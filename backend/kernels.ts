// The epikv kernels (wasm/build/kernels.wasm) in the backend: the KV wire
// format's int8 groups use the same quantize/dequantize as the Durable
// Object's pages, so both ends share one implementation.
import type { Kernels } from "../wasm/src/kernels";
import { loadWasmModule } from "../wasm/src/node-module";
import { wasmKernels } from "../wasm/src/wasm-kernels";

let kernels: Kernels | undefined;

export function epikvKernels(): Kernels {
  kernels ??= wasmKernels(loadWasmModule("kernels"));
  return kernels;
}
