// The BM25 kernel inside workerd: the same conformance suite as in Node, on the module the Worker bundles.
import { bundledKernels, kernelsModule } from "../../wasm/src/bundled";
import { oracleKernels } from "../../wasm/oracle/index";
import { bm25Conformance } from "../suites/kernels-bm25-suite";

bm25Conformance({ runtime: "workerd", wasm: bundledKernels(), oracle: oracleKernels, module: kernelsModule });
