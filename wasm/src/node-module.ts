// Node-only: compile a built module from wasm/build/ (tests, scripts, backend).
import { readFileSync } from "node:fs";

export function loadWasmModule(name: "kernels" | string = "kernels", relaxed = false): WebAssembly.Module {
  const url = new URL(`../build/${name}${relaxed ? ".relaxed" : ""}.wasm`, import.meta.url);
  return new WebAssembly.Module(readFileSync(url));
}
