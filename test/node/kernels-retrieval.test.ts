// Retrieval kernels in Node: the conformance suite (WASM vs oracle), run on
// the module compiled from wasm/build/kernels.wasm.
import { loadWasmModule } from "../../wasm/src/node-module";
import { instantiateKernels } from "../../wasm/src/instance";
import { retrievalBindings } from "../../wasm/src/bindings/retrieval";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { retrievalConformance } from "../suites/kernels-retrieval-suite";

const module = loadWasmModule();
retrievalConformance({ runtime: "node", wasm: retrievalBindings(instantiateKernels(module)), oracle: retrievalOracle, module });
