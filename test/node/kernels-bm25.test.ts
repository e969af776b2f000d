// The BM25 kernel in Node: the conformance suite (WASM vs oracle) on the module compiled from wasm/build/kernels.wasm.
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";
import { oracleKernels } from "../../wasm/oracle/index";
import { bm25Conformance } from "../suites/kernels-bm25-suite";

const module = loadWasmModule();
bm25Conformance({ runtime: "node", wasm: wasmKernels(module), oracle: oracleKernels, module });
