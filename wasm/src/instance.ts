// Instantiates an already-compiled kernels module. The Worker passes the
// module from its static `.wasm` import; Node passes one compiled from the
// file (wasm/src/node-module.ts). Both then share the same bindings.
import { Arena } from "./arena";

/** Raw exports of wasm/assembly/index.ts (pointer-level; see wasm-kernels.ts for the typed API). */
export type KernelExports = Record<string, (...args: number[]) => number> & {
  memory: WebAssembly.Memory;
  heapBase(): number;
};

export interface KernelInstance {
  exports: KernelExports;
  arena: Arena;
}

export function instantiateKernels(module: WebAssembly.Module): KernelInstance {
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`wasm kernel aborted at ${line}:${column}`);
      },
    },
  });
  const exports = instance.exports as unknown as KernelExports;
  return { exports, arena: new Arena(exports.memory, exports.heapBase()) };
}
