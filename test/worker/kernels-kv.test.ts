// The kv kernels' oracle comparisons inside workerd, through the statically
// imported module (wasm/src/bundled.ts), as the Durable Objects use them.
import { describe, expect, it } from "vitest";
import { bundledKernelInstance, bundledKernels } from "../../wasm/src/bundled";
import { kvDirect } from "../../wasm/src/bindings/kv";
import { oracleKernels } from "../../wasm/oracle";
import { kvKernelSuite } from "../suites/kernels-kv-suite";

kvKernelSuite("workerd", bundledKernels);

describe("kv kernels: zero-copy path in workerd", () => {
  it("quantizes values written straight into WASM memory like the oracle", () => {
    const direct = kvDirect(bundledKernelInstance());
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.1) * 5);
    const q = direct.quantizeFrom(values.length, 4, 128, (dst) => dst.set(values));
    expect(q).toEqual(oracleKernels.quantize(values, 4, 128));
    const restored = direct.dequantizeTo(q, (view) => Array.from(view));
    expect(restored).toEqual(Array.from(oracleKernels.dequantize(q)));
  });
});
