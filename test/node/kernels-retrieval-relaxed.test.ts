// Retrieval kernels in Node on the relaxed-SIMD build (wasm/build/kernels.relaxed.wasm,
// built by `npm run build`; k-means scores use f32x4.relaxed_madd): the same
// conformance suite as the baseline build, same tolerances. Node 20 accepts
// relaxed SIMD only behind a V8 flag; setting it before the module is
// compiled is enough (and the check below fails loudly if it is not).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { loadWasmModule } from "../../wasm/src/node-module";
import { instantiateKernels } from "../../wasm/src/instance";
import { retrievalBindings } from "../../wasm/src/bindings/retrieval";
import { retrievalOracle } from "../../wasm/oracle/retrieval";
import { retrievalConformance } from "../suites/kernels-retrieval-suite";

setFlagsFromString("--experimental-wasm-relaxed-simd");
const module = loadWasmModule("kernels", true); // throws a CompileError if relaxed SIMD is still rejected
retrievalConformance({ runtime: "node, relaxed SIMD", wasm: retrievalBindings(instantiateKernels(module)), oracle: retrievalOracle, module });

describe("the relaxed-SIMD build", () => {
  it("really contains relaxed-SIMD instructions (a plain Node 20 process rejects it)", () => {
    const file = fileURLToPath(new URL("../../wasm/build/kernels.relaxed.wasm", import.meta.url));
    const check = `process.stdout.write(String(WebAssembly.validate(require("fs").readFileSync(${JSON.stringify(file)}))))`;
    expect(execFileSync(process.execPath, ["-e", check], { encoding: "utf8" })).toBe("false");
    expect(execFileSync(process.execPath, ["--experimental-wasm-relaxed-simd", "-e", check], { encoding: "utf8" })).toBe("true");
  });
});
