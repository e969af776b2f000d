// Retrieval kernels inside workerd: the same conformance suite as in Node,
// on the module the Worker bundles (static .wasm import; workerd refuses to
// compile WebAssembly from bytes).
import kernelsModule from "../../wasm/build/kernels.wasm";
import { bundledKernels } from "../../wasm/src/bundled";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { retrievalConformance } from "../suites/kernels-retrieval-suite";

retrievalConformance({ runtime: "workerd", wasm: bundledKernels(), oracle: retrievalOracle, module: kernelsModule });
