// Retrieval kernels inside workerd on the relaxed-SIMD build
// (wasm/build/kernels.relaxed.wasm; k-means scores use f32x4.relaxed_madd,
// which workerd runs without a flag): the same conformance suite and
// tolerances as the baseline build the Worker ships (test/worker/kernels-retrieval.test.ts).
import relaxedModule from "../../wasm/build/kernels.relaxed.wasm";
import { instantiateKernels } from "../../wasm/src/instance";
import { retrievalBindings } from "../../wasm/src/bindings/retrieval";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { retrievalConformance } from "../suites/kernels-retrieval-suite";

retrievalConformance({ runtime: "workerd, relaxed SIMD", wasm: retrievalBindings(instantiateKernels(relaxedModule)), oracle: retrievalOracle, module: relaxedModule });
