// The column-major scan and ResidentColumns in Node: the conformance suite
// (WASM vs oracle) on the module compiled from wasm/build/kernels.wasm.
import { loadWasmModule } from "../../wasm/src/node-module";
import { instantiateKernels } from "../../wasm/src/instance";
import { retrievalBindings } from "../../wasm/src/bindings/retrieval";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { columnScoresConformance } from "../suites/kernels-column-scores-suite";

const module = loadWasmModule();
columnScoresConformance({ runtime: "node", wasm: retrievalBindings(instantiateKernels(module)), oracle: retrievalOracle, module });
