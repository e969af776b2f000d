// The column-major scan and ResidentColumns inside workerd: the same
// conformance suite as in Node, on the module the Worker bundles.
import kernelsModule from "../../wasm/build/kernels.wasm";
import { bundledKernels } from "../../wasm/src/bundled";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { columnScoresConformance } from "../suites/kernels-column-scores-suite";

columnScoresConformance({ runtime: "workerd", wasm: bundledKernels(), oracle: retrievalOracle, module: kernelsModule });
